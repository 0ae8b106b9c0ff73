// Writes experiment.schema.json (the JSON Schema of experiment files) from the built package.
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { experimentJsonSchema } = require('../dist/cjs/index.js');
writeFileSync(join(__dirname, '..', 'experiment.schema.json'), JSON.stringify(experimentJsonSchema(), null, 2) + '\n');
