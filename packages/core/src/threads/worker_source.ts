/**
 * The code of a kernel thread, as source text so that one string starts it in Node
 * (`new Worker(source, { eval: true })`) and in browsers (a `Blob` URL), with no file to
 * locate or bundle. It instantiates bnlab's SIMD module on the shared heap it is sent, says
 * it is ready, then sleeps on its control word until the main thread posts a list of calls
 * (`[count, (function index, argument count, arguments…)…]` as float64), runs them in order,
 * and reports done (or failed) on its control words, then spins for `spinMs` before it
 * sleeps again. A negative sequence number stops it.
 *
 * Control words (Int32): 0 sequence posted by the main thread, 1 sequence finished, 2 failed.
 */
export const KERNEL_THREAD_SOURCE = `(function () {
  'use strict';
  function start(d, post) {
    var exports = new WebAssembly.Instance(d.module, { env: { memory: d.memory } }).exports;
    var fns = d.names.map(function (n) { return exports[n]; });
    var ctl = new Int32Array(d.control, d.ctlOffset, 4);
    var args = new Float64Array(d.control, d.argsOffset, d.argsLength);
    post({ ready: true });
    var seen = 0;
    var spin = d.spinMs;
    for (;;) {
      // Spin a while before sleeping: kernels come in bursts, and waking a sleeping thread
      // costs tens of microseconds (more in a virtual machine), as much as a small kernel.
      if (spin > 0 && Atomics.load(ctl, 0) === seen) {
        var until = performance.now() + spin;
        while (Atomics.load(ctl, 0) === seen && performance.now() < until) {}
      }
      Atomics.wait(ctl, 0, seen);
      var seq = Atomics.load(ctl, 0);
      if (seq < 0) return;
      if (seq === seen) continue;
      seen = seq;
      var failed = 0;
      try {
        var n = args[0], p = 1;
        for (var c = 0; c < n; c++) {
          var argc = args[p + 1];
          fns[args[p]].apply(null, args.subarray(p + 2, p + 2 + argc));
          p += 2 + argc;
        }
      } catch (e) {
        failed = 1;
      }
      Atomics.store(ctl, 2, failed);
      Atomics.store(ctl, 1, seq);
      Atomics.notify(ctl, 1);
    }
  }
  if (typeof self === 'undefined' && typeof process !== 'undefined') {
    var port = process.getBuiltinModule('node:worker_threads').parentPort;
    port.once('message', function (d) { start(d, function (m) { port.postMessage(m); }); });
  } else {
    self.onmessage = function (e) { self.onmessage = null; start(e.data, function (m) { self.postMessage(m); }); };
  }
})();
`;
