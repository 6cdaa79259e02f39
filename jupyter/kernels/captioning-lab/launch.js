// Starts the tslab kernel of the project that holds the notebook.
//
// Jupyter runs a kernel with the notebook's folder as working directory. This launcher walks
// up from there to the nearest node_modules/tslab, so that the kernel spec needs no absolute
// path: it works from the repository (JUPYTER_PATH=<repo>/jupyter) and after
// `jupyter kernelspec install` copied it elsewhere. The project's tslab carries the
// patch in patches/ that lets notebooks import ../src.
"use strict";
const fs = require("fs");
const path = require("path");

function findTslab(start) {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    const main = path.join(dir, "node_modules", "tslab", "dist", "main.js");
    if (fs.existsSync(main)) return main;
    if (path.dirname(dir) === dir) return null;
  }
}

const tslabMain = findTslab(process.cwd());
if (!tslabMain) {
  process.stderr.write(
    `captioning-lab kernel: no node_modules/tslab found in ${process.cwd()} or any folder above it.\n` +
      "Open the notebook from inside the captioning-lab checkout and run `npm ci` there first.\n",
  );
  process.exit(1);
}
require(tslabMain).main();
