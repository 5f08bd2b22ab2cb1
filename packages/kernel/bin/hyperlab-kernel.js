#!/usr/bin/env node
// The `hyperlab-kernel` command. This file is committed (dist/ is not) so that npm can link the
// bin into node_modules/.bin when the workspace is installed, before anything is built.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const cli = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  process.stderr.write(`hyperlab-kernel: ${cli} is not built yet; run \`npm run build\` in the HyperLab checkout first\n`);
  process.exit(2);
}
require(cli);
