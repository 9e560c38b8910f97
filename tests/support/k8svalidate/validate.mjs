// Validates Kubernetes objects against the published schemas, for Portico's tests of
// `porticoctl export kubernetes`:
//   node validate.mjs NODE_MODULES FILE
// NODE_MODULES holds the packages of package.json (installer/deps.sh puts them in
// .tools/k8s-validate/node_modules); FILE is a YAML stream (*.yaml) or JSON (*.json: an
// object, an array or a List). A YAML stream is read twice, as YAML 1.1 (what kubectl's
// parser follows for booleans and numbers) and as YAML 1.2; both must give the same values,
// so no string of the export can be read as something else.
// Each object is checked by the class of its apiVersion and kind from kubernetes-models or
// @kubernetes-models/gateway-api (validate(), the JSON schemas of Kubernetes and of the
// Gateway API CRDs). A kind without a class is an error, never a pass.
// Prints one JSON report on stdout; exit 0 when every object is valid, 1 when not, 2 when
// the check itself could not run.
import { readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [modules, file] = process.argv.slice(2);
if (!modules || !file) {
  console.error("usage: node validate.mjs NODE_MODULES FILE");
  process.exit(2);
}
// By path: the script lives in the source tree, the packages in .tools.
const load = (path) => import(pathToFileURL(join(modules, path)).href);

const classes = {
  "gateway.networking.k8s.io/v1": {
    Gateway: "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway.js",
    HTTPRoute: "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute.js",
  },
  "gateway.networking.k8s.io/v1alpha2": {
    TCPRoute: "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/TCPRoute.js",
    UDPRoute: "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/UDPRoute.js",
  },
  "v1": { Service: "kubernetes-models/v1/Service.js" },
  "apps/v1": { Deployment: "kubernetes-models/apps/v1/Deployment.js" },
  "discovery.k8s.io/v1": { EndpointSlice: "kubernetes-models/discovery.k8s.io/v1/EndpointSlice.js" },
};

function describe(err) {
  // ajv errors as "path message"; the classes throw a ValidationError carrying them.
  if (Array.isArray(err?.errors))
    return err.errors.map((e) => `${e.instancePath || "/"} ${e.message ?? e.keyword}`);
  return [String(err?.message ?? err)];
}

async function main() {
  const text = readFileSync(file, "utf8");
  const report = { ok: true, objects: [] };
  let objects;
  if (file.endsWith(".json")) {
    const doc = JSON.parse(text);
    objects = doc?.kind === "List" ? doc.items : Array.isArray(doc) ? doc : [doc];
  } else {
    const YAML = await load("yaml/dist/index.js");
    const read = (version) =>
      YAML.parseAllDocuments(text, { version, strict: true, uniqueKeys: true, prettyErrors: false });
    const docs11 = read("1.1");
    const docs12 = read("1.2");
    const problems = [];
    for (const [version, docs] of [["1.1", docs11], ["1.2", docs12]]) {
      if (!Array.isArray(docs)) {
        problems.push(`YAML ${version}: not a stream of documents`);
        continue;
      }
      for (const [i, d] of docs.entries())
        for (const e of [...d.errors, ...d.warnings]) problems.push(`YAML ${version} document ${i}: ${e.message}`);
    }
    objects = problems.length ? [] : docs11.map((d) => d.toJS());
    const same = !problems.length && isDeepStrictEqual(objects, docs12.map((d) => d.toJS()));
    report.yaml = { documents: objects.length, same11and12: same, errors: problems };
    if (problems.length || !same) report.ok = false;
  }
  report.parsed = objects;
  for (const [i, o] of objects.entries()) {
    const entry = { index: i, apiVersion: o?.apiVersion, kind: o?.kind, name: o?.metadata?.name, ok: false, errors: [] };
    const path = classes[o?.apiVersion]?.[o?.kind];
    if (!path) {
      entry.errors.push(`no validator for apiVersion ${o?.apiVersion} kind ${o?.kind}`);
    } else {
      const mod = await load(path);
      try {
        new mod[o.kind](o).validate();
        entry.ok = true;
      } catch (err) {
        entry.errors = describe(err);
      }
    }
    if (!entry.ok) report.ok = false;
    report.objects.push(entry);
  }
  process.stdout.write(JSON.stringify(report) + "\n");
  process.exit(report.ok ? 0 : 1);
}

main().catch((err) => {
  console.error(`validate.mjs: ${err?.stack ?? err}`);
  process.exit(2);
});
