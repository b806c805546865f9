// Validates Kubernetes objects (a JSON array, argv[2]) against the Kubernetes and CRD schemas
// of the npm packages kubernetes-models, @kubernetes-models/prometheus-operator and
// @kubernetes-models/keda, in two ways:
//  1. each model's validate() (Ajv, generated from the OpenAPI schemas): types, enums,
//     required fields, formats. These validators do not reject unknown fields, so:
//  2. every object becomes a TypeScript object literal typed with the model's interface and
//     the TypeScript compiler type-checks it: excess-property checks reject unknown fields
//     at every depth, and types are checked a second time.
// Prints one line per problem and exits 1 when there is any. Usage:
//   node validate_k8s.mjs OBJECTS.json REFERENCE_DIR
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const objectsPath = process.argv[2];
const refDir = path.resolve(process.argv[3]);
const nodeModules = path.join(refDir, "node_modules");
const objects = JSON.parse(fs.readFileSync(objectsPath, "utf8"));

// apiVersion + kind -> module path (under node_modules) of its model.
function modelModule(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group === "monitoring.coreos.com") {
    return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
  }
  if (group === "keda.sh") return `@kubernetes-models/keda/${group}/${version}/${kind}`;
  return group === "" ? `kubernetes-models/${version}/${kind}` : `kubernetes-models/${group}/${version}/${kind}`;
}

const problems = [];
const name = (o) => `${o.kind}/${o.metadata?.name}`;
const typed = [];
for (const [i, obj] of objects.entries()) {
  const mod = modelModule(obj.apiVersion, obj.kind);
  const file = path.join(nodeModules, mod + ".js");
  if (!fs.existsSync(file)) {
    problems.push(`${name(obj)}: no schema for ${obj.apiVersion} ${obj.kind} (${mod})`);
    continue;
  }
  const Model = (await import(pathToFileURL(file).href))[obj.kind];
  try {
    new Model(obj).validate();
  } catch (e) {
    problems.push(`${name(obj)}: ${e.message}`);
  }
  typed.push(`import type { I${obj.kind} as T${i} } from "${mod}";\n` +
             `export const o${i}: T${i} = ${JSON.stringify(obj, null, 1)};\n`);
}

// The TypeScript check, on one generated file.
const require = createRequire(path.join(refDir, "package.json"));
const ts = require("typescript");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sllm-k8s-ts-"));
const src = path.join(dir, "objects.ts");
fs.writeFileSync(src, typed.join("\n"));
const program = ts.createProgram([src], {
  noEmit: true, strict: true, skipLibCheck: true, types: [],
  module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
  baseUrl: nodeModules,
});
for (const d of ts.getPreEmitDiagnostics(program)) {
  const text = ts.flattenDiagnosticMessageText(d.messageText, "\n").split("\n")[0];
  let where = "";
  if (d.file && d.start !== undefined) {
    // Name the object: the nearest `export const oN` above the error.
    const before = d.file.text.slice(0, d.start);
    const m = [...before.matchAll(/export const o(\d+)/g)].pop();
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    where = (m ? name(objects[Number(m[1])]) : "?") + ` (objects.ts:${line + 1})`;
  }
  problems.push(`${where}: ${text}`);
}
fs.rmSync(dir, { recursive: true, force: true });
for (const p of problems) console.log(p);
console.log(`${objects.length} objects, ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
