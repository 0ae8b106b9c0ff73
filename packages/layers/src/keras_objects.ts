import { serialization } from '@tensorflow/tfjs-core';
import { constraints, initializers, regularizers } from '@tensorflow/tfjs-layers';
import { BnlabError, formatValue } from '@bnlab/core';
import type { Constraint, Initializer, Regularizer } from './tfjs_types.js';

// tfjs-layers keeps getInitializer / serializeInitializer (and the regularizer and constraint
// equivalents) internal, so the layers resolve these objects here, the same way: a camelCase
// identifier ('ones', 'l1l2'), an instance, or the serialized {className, config} a saved
// model holds, looked up in tfjs's serialization registry.

type Kind = 'initializer' | 'regularizer' | 'constraint';

/** The base class of each kind, taken from an instance tfjs builds, to check what we got. */
const BASES: Record<Kind, abstract new (...args: never[]) => object> = {
  initializer: baseClass(initializers.zeros()),
  regularizer: baseClass(regularizers.l1l2()),
  constraint: baseClass(constraints.nonNeg()),
};

/** How each kind is described in error messages. */
const EXAMPLES: Record<Kind, string> = {
  initializer: "an initializer: a name such as 'ones'",
  regularizer: "a regularizer: a name such as 'l1l2'",
  constraint: "a constraint: a name such as 'nonNeg'",
};

/** Identifiers whose class name is not the identifier with a capital first letter. */
const CLASS_NAMES: Record<string, string> = { l1l2: 'L1L2' };

function baseClass(instance: object): abstract new (...args: never[]) => object {
  return Object.getPrototypeOf(Object.getPrototypeOf(instance).constructor) as abstract new (
    ...args: never[]
  ) => object;
}

function resolve(value: unknown, kind: Kind, where: string): serialization.Serializable | null {
  if (value == null) return null;
  if (value instanceof BASES[kind]) return value as serialization.Serializable;
  let className: string;
  let config: serialization.ConfigDict = {};
  if (typeof value === 'string' && value.length > 0) {
    className = CLASS_NAMES[value] ?? value[0]!.toUpperCase() + value.slice(1);
  } else if (typeof value === 'object' && typeof (value as { className?: unknown }).className === 'string') {
    className = (value as { className: string }).className;
    config = ((value as { config?: serialization.ConfigDict }).config ?? {}) as serialization.ConfigDict;
  } else {
    throw new BnlabError(
      'INVALID_CONFIG',
      `\`${where}\` (${formatValue(value)}) must be ${EXAMPLES[kind]}, an instance, or its serialized {className, config}`,
      { where },
    );
  }
  const entry = serialization.SerializationMap.getMap().classNameMap[className];
  if (entry === undefined || !(entry[0].prototype instanceof BASES[kind])) {
    throw new BnlabError('INVALID_CONFIG', `\`${where}\` (${formatValue(value)}) must name a registered tfjs ${kind}`, {
      where,
    });
  }
  let made: serialization.Serializable;
  try {
    made = entry[1](entry[0], { ...config });
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new BnlabError('INVALID_CONFIG', `\`${where}\` (${formatValue(value)}) could not be built: ${reason}`, {
      where,
      cause,
    });
  }
  return made;
}

/** An initializer from an identifier, an instance or a serialized config; `fallback` when unset. */
export function resolveInitializer(value: unknown, fallback: string, where: string): Initializer {
  return (resolve(value, 'initializer', where) ?? resolve(fallback, 'initializer', where)) as Initializer;
}

/** A regularizer from an identifier, an instance or a serialized config; `null` when unset. */
export function resolveRegularizer(value: unknown, where: string): Regularizer | null {
  return resolve(value, 'regularizer', where) as Regularizer | null;
}

/** A constraint from an identifier, an instance or a serialized config; `null` when unset. */
export function resolveConstraint(value: unknown, where: string): Constraint | null {
  return resolve(value, 'constraint', where) as Constraint | null;
}

/** The Keras serialized form `{className, config}` of an object, `null` for none. */
export function serializeObject(value: serialization.Serializable | null): serialization.ConfigDict | null {
  return value === null ? null : { className: value.getClassName(), config: value.getConfig() };
}
