// danfojs-node only needs tensors and a few ops from tfjs-node: give it the project's tfjs
// (one tfjs-core for the whole process; see package.json "overrides").
module.exports = require('@tensorflow/tfjs');
