/** The normalization families bnlab knows, plus `'none'`. */
export type NormalizationType = 'batch' | 'layer' | 'group' | 'instance' | 'none';

/** Options shared by every normalization layer. */
export interface NormalizationCommonOptions {
  /** Added to the variance before the square root. @default 1e-3 (Keras) */
  epsilon?: number;
  /** Learn an offset beta. @default true */
  center?: boolean;
  /** Learn a scale gamma. @default true */
  scale?: boolean;
}

/** Batch normalization (Ioffe & Szegedy, 2015) with Keras semantics. */
export interface BatchNormSpec extends NormalizationCommonOptions {
  type: 'batch';
  /** The feature axis. @default -1 */
  axis?: number;
  /** `moving = momentum * moving + (1 - momentum) * batch`. @default 0.99 */
  momentum?: number;
  /** Ghost batch normalization: statistics over sub-batches of this size. */
  virtualBatchSize?: number;
  /** Batch renormalization (Ioffe, 2017). @default false */
  renorm?: boolean;
  /** Clipping of the renormalization corrections r and d. */
  renormClipping?: { rmax?: number; dmax?: number };
  /** Momentum of the statistics renormalization uses. @default 0.99 */
  renormMomentum?: number;
}

/** Layer normalization (Ba et al., 2016). */
export interface LayerNormSpec extends NormalizationCommonOptions {
  type: 'layer';
  /** Axis or axes normalized over. @default -1 */
  axis?: number | number[];
}

/** Group normalization (Wu & He, 2018). */
export interface GroupNormSpec extends NormalizationCommonOptions {
  type: 'group';
  /** Number of groups; -1 means one group per channel. @default 32 */
  groups?: number;
  /** The channel axis. @default -1 */
  axis?: number;
}

/** Instance normalization (Ulyanov et al., 2016): per sample and channel over space. */
export interface InstanceNormSpec extends NormalizationCommonOptions {
  type: 'instance';
  /** The channel axis. @default -1 */
  axis?: number;
}

/** No normalization: the identity. */
export interface NoNormSpec {
  type: 'none';
}

/**
 * A plain, JSON-serializable description of a normalization layer, e.g.
 * `{ type: 'group', groups: 8 }`. `@bnlab/layers` validates it and builds the layer.
 */
export type NormalizationSpec = BatchNormSpec | LayerNormSpec | GroupNormSpec | InstanceNormSpec | NoNormSpec;
