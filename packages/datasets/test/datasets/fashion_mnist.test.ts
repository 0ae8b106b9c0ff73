import { existsSync } from 'node:fs';
import { fashionMnist, DEBIAN_FASHION_MNIST_FOLDER } from '../../src/node/datasets.js';
import { requireSystem } from '../../../../test-support/system_requirements.js';

const installed = requireSystem({
  what: "Fashion-MNIST (Debian's dataset-fashion-mnist package)",
  present: existsSync(`${DEBIAN_FASHION_MNIST_FOLDER}/train-images-idx3-ubyte.gz`),
  install: 'apt-get install dataset-fashion-mnist',
});

installed.describe("Fashion-MNIST from Debian's dataset-fashion-mnist package (offline)", () => {
  it('is installed where the loader looks', () => {
    expect(existsSync(`${DEBIAN_FASHION_MNIST_FOLDER}/train-images-idx3-ubyte.gz`)).toBe(true);
  });

  it('has 60,000 + 10,000 balanced images (6,000 and 1,000 per class) with the published statistics', async () => {
    const { train, test } = await fashionMnist.load({ offline: true });
    expect([train.size, test.size]).toEqual([60000, 10000]);
    expect(train.labelCounts()).toEqual(new Array(10).fill(6000));
    expect(test.labelCounts()).toEqual(new Array(10).fill(1000));
    expect(train.classNames[9]).toBe('Ankle boot');
    // Fashion-MNIST's widely used normalization constants: mean 0.2860, std 0.3530
    const { mean, std } = train.channelStats();
    expect(mean[0]).toBeCloseTo(0.286, 3);
    expect(std[0]).toBeCloseTo(0.353, 3);
  });
});
