import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { NormalizationSpec } from '@bnlab/core';
import { normalization } from '../../src/normalization.js';
import type { NormalizationLayer } from '../../src/normalization_layer.js';
import { expectClose } from './tolerance.js';

/** One training or inference call of a fixture case, with its PyTorch float64 results. */
export interface FixtureStep {
  training: boolean;
  x: number[];
  cotangent: number[];
  y: number[];
  dx: number[];
  /** Gradients of the trainable weights, by weight name (`gamma`, `beta`). */
  dweights: Record<string, number[]>;
}

/** A case written by scripts/make_fixtures.py. */
export interface FixtureCase {
  name: string;
  spec: NormalizationSpec;
  inputShape: number[];
  /** Initial values of the layer's weights, by weight name. */
  weights: Record<string, number[]>;
  steps: FixtureStep[];
  /** Non-trainable weights after all steps (moving and renorm statistics). */
  weightsAfter: Record<string, number[]>;
}

/** The cases of one fixture file. */
export function loadFixture(file: string): FixtureCase[] {
  const text = fs.readFileSync(path.join(__dirname, '..', 'fixtures', file), 'utf8');
  return (JSON.parse(text) as { cases: FixtureCase[] }).cases;
}

/** What the layer computed for a step. */
export interface StepResult {
  y: Float32Array;
  dx: Float32Array;
  dweights: Record<string, Float32Array>;
}

/** The short name of a layer weight: `gamma` for `group_normalization_3/gamma`. */
export function weightName(w: { originalName: string }): string {
  return w.originalName.split('/').pop()!;
}

/**
 * Builds the layer of a case from its spec, sets the initial weights, and runs the steps:
 * the output and the gradients of `sum(y * cotangent)` with respect to the input and the
 * trainable weights, exactly one layer call per step (so batch norm updates its statistics
 * once per training step).
 */
export function runCase(c: FixtureCase): { layer: NormalizationLayer; steps: StepResult[]; weightsAfter: Record<string, Float32Array> } {
  const layer = normalization(c.spec)!;
  layer.build(c.inputShape);
  for (const w of layer.weights) {
    const values = c.weights[weightName(w)];
    if (values === undefined) throw new Error(`${c.name}: the fixture has no initial value for weight ${w.originalName}`);
    w.write(tf.tensor(values, w.shape as number[]));
  }
  const steps: StepResult[] = [];
  for (const step of c.steps) {
    const x = tf.variable(tf.tensor(step.x, c.inputShape), true);
    const cot = tf.tensor(step.cotangent, c.inputShape);
    const trainable = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    let y: tf.Tensor | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const out = layer.apply(x, { training: step.training }) as tf.Tensor;
      y = tf.keep(out);
      return tf.sum(tf.mul(out, cot)) as tf.Scalar;
    }, [x, ...trainable]);
    const dweights: Record<string, Float32Array> = {};
    layer.trainableWeights.forEach((w, i) => {
      dweights[weightName(w)] = grads[trainable[i]!.name]!.dataSync() as Float32Array;
    });
    steps.push({ y: y!.dataSync() as Float32Array, dx: grads[x.name]!.dataSync() as Float32Array, dweights });
    tf.dispose([x, cot, y!, value, ...Object.values(grads)]);
  }
  const weightsAfter: Record<string, Float32Array> = {};
  for (const w of layer.weights) weightsAfter[weightName(w)] = w.read().dataSync() as Float32Array;
  return { layer, steps, weightsAfter };
}

/**
 * Runs a case and checks, against the PyTorch values, every step's output, input gradient and
 * weight gradients (and that the layer has exactly the trainable weights the case expects),
 * then the non-trainable weights after the steps.
 */
export function checkCase(c: FixtureCase): void {
  const { layer, steps, weightsAfter } = runCase(c);
  c.steps.forEach((expected, i) => {
    const actual = steps[i]!;
    const at = `${c.name}, step ${i + 1} (training: ${expected.training})`;
    expectClose(actual.y, expected.y, `${at}: output`);
    expectClose(actual.dx, expected.dx, `${at}: input gradient`);
    expect(Object.keys(actual.dweights).sort()).toEqual(Object.keys(expected.dweights).sort());
    for (const name of Object.keys(expected.dweights)) {
      expectClose(actual.dweights[name]!, expected.dweights[name]!, `${at}: ${name} gradient`);
    }
  });
  for (const name of Object.keys(c.weightsAfter)) {
    expectClose(weightsAfter[name]!, c.weightsAfter[name]!, `${c.name}: ${name} after the steps`);
  }
  for (const w of layer.weights) w.dispose();
}
