// Validates JSON documents against a JSON Schema with Ajv (strict mode, every error), for
// tests/unit/tst_manifest_schema.cpp.
//   node validate.cjs AJV_DIR SCHEMA < texts.json
// stdin: a JSON array of document texts; stdout: a JSON array of {valid, errors: [...]},
// one per text (a text that is not JSON is invalid). Exits 2 when the schema itself does
// not compile.
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const [ajvDir, schemaPath] = process.argv.slice(2);
const load = createRequire(path.join(path.resolve(ajvDir), 'package.json'));
const Ajv = load('ajv').default;

let validate;
try {
    // Strict, except for tuples: the manifest schema's `command` is a one-item tuple on
    // purpose (the program must not be empty, its arguments may be anything).
    const ajv = new Ajv({ allErrors: true, strict: true, strictTuples: false });
    validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, 'utf8')));
} catch (e) {
    process.stderr.write(`${schemaPath}: ${e.message}\n`);
    process.exit(2);
}

const texts = JSON.parse(fs.readFileSync(0, 'utf8'));
const results = texts.map((text) => {
    let doc;
    try {
        doc = JSON.parse(text);
    } catch (e) {
        return { valid: false, errors: [`not JSON: ${e.message}`] };
    }
    const valid = validate(doc);
    return { valid, errors: valid ? [] : validate.errors.map((e) => `${e.instancePath || '/'}: ${e.message}`) };
});
process.stdout.write(JSON.stringify(results));
