// Jest setup for every package: drops the console noise tfjs prints on purpose (its "install
// the node backend" banner), so that test output shows what matters. Other warnings stay.
const EXPECTED_NOISE = [/looks like you are running TensorFlow\.js in Node\.js/];

const warn = console.warn.bind(console);
console.warn = (...args: unknown[]): void => {
  const text = args.map(String).join(' ');
  if (EXPECTED_NOISE.some((re) => re.test(text))) return;
  warn(...args);
};
