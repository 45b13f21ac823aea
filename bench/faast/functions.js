// The same job functions the cloudknot side runs, for faast.js's local mode.
exports.noop = function noop(x) {
  return x;
};

exports.monteCarlo = function monteCarlo(n) {
  const start = performance.now();
  let inside = 0;
  for (let i = 0; i < n; i++) {
    const x = Math.random();
    const y = Math.random();
    if (x * x + y * y <= 1) inside++;
  }
  return { inside, ms: performance.now() - start };
};
