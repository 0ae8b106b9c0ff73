import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/init_backend.js';
import { WASM_TRAINING_KERNELS } from '../../src/kernels/register.js';
import { BnlabError } from '../../src/errors.js';

describe('initBackend', () => {
  it('starts the SIMD wasm backend by default and registers the training kernels', async () => {
    const warnings: string[] = [];
    const info = await initBackend({ onWarning: (m) => warnings.push(m) });
    expect(info.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.simd).toBe(true); // Node 20 has wasm SIMD
    expect(info.threads).toBe(1); // tfjs turns wasm threads off in Node
    expect(info.version).toBe(tf.version_core);
    expect(warnings).toEqual([]);
    for (const k of WASM_TRAINING_KERNELS) expect(tf.getKernel(k.kernelName, 'wasm')?.kernelFunc).toBe(k.kernelFunc);
  });

  it('is idempotent', async () => {
    await initBackend();
    const again = await initBackend();
    expect(again.backend).toBe('wasm');
    expect(again.kernels).toEqual([]); // nothing new to register
  });

  it('starts cpu on request', async () => {
    const info = await initBackend({ backend: 'cpu' });
    expect(info).toMatchObject({ backend: 'cpu', simd: false, threads: 1 });
    expect(tf.getBackend()).toBe('cpu');
  });

  it('rejects an unknown backend name, naming it', async () => {
    await expect(initBackend({ backend: 'webgl' as never })).rejects.toThrow(/'webgl'/);
    await expect(initBackend({ backend: 'webgl' as never })).rejects.toBeInstanceOf(BnlabError);
  });
});

describe('registering and unregistering the kernels', () => {
  it('restores the stock kernels and registers only the missing ones without replace', async () => {
    const { registerWasmTrainingKernels, unregisterWasmTrainingKernels } = await import('../../src/kernels/register.js');
    await initBackend();
    const ours = tf.getKernel('MaxPoolGrad', 'wasm')?.kernelFunc;
    unregisterWasmTrainingKernels();
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    const stock = tf.getKernel('MaxPoolGrad', 'wasm')?.kernelFunc;
    expect(stock).toBeDefined();
    expect(stock).not.toBe(ours);
    expect(registerWasmTrainingKernels({ replace: false }).sort()).toEqual([
      'Conv2DBackpropFilter',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
    ]);
    expect(tf.getKernel('MaxPoolGrad', 'wasm')?.kernelFunc).toBe(stock);
    expect(registerWasmTrainingKernels().sort()).toEqual([
      'Add',
      'BatchMatMul',
      'BnlabMeanGrad',
      'BnlabReluGrad',
      'Conv2D',
      'Conv2DBackpropInput',
      'FusedBatchNorm',
      'FusedConv2D',
      'Identity',
      'MaxPool',
      'MaxPoolGrad',
      'Mean',
      'Slice',
      'Sum',
      'Tile',
    ]);
    expect(tf.getKernel('MaxPoolGrad', 'wasm')?.kernelFunc).toBe(ours);
  });
});
