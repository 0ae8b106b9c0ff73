// Writes experiment.schema.json (the JSON Schema of experiment files) from the built package.
const { writeFileSync } = require('fs');
const { join } = require('path');
const { experimentJsonSchema } = require('../dist/cjs/index.js');
writeFileSync(join(__dirname, '..', 'experiment.schema.json'), JSON.stringify(experimentJsonSchema(), null, 2) + '\n');
