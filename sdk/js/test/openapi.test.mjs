// Keeps the SDK's types (src/types.ts) and methods equal to the API's contract, docs/openapi.yaml.
// Needs no stack: it reads the document (with `yaml`, a dev dependency) and src/types.ts (with the
// TypeScript compiler API). The document is the contract: when this fails, change the SDK, or
// change the document in its own commit if it is the document that is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { parse } from 'yaml';
import { Intaj } from '../dist/esm/index.js';

const docPath = fileURLToPath(new URL('../../../docs/openapi.yaml', import.meta.url));
const typesPath = fileURLToPath(new URL('../src/types.ts', import.meta.url));
const doc = parse(readFileSync(docPath, 'utf8'));

// ---- the document ---------------------------------------------------------------------------

function deref(schema) {
  while (schema?.$ref) {
    const path = schema.$ref.replace(/^#\//, '').split('/');
    schema = path.reduce((node, key) => node?.[key], doc);
    assert.ok(schema, `unresolved $ref in docs/openapi.yaml`);
  }
  return schema;
}

function operations() {
  const ops = new Map();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch']) {
      if (item[method]) ops.set(item[method].operationId, { method, path, op: item[method] });
    }
  }
  return ops;
}

const ops = operations();

/**
 * Where a schema is: a name under `components.schemas`, `"operationId <status>"` for an answer
 * written inline, `"operationId request"` for a request body written inline, and `.prop` or
 * `[]` steps into a property or the items of an array.
 */
function docSchema(where) {
  const [head, ...steps] = where.split(/(?=\.|\[\])/);
  let schema;
  const [name, part] = head.split(' ');
  if (part === undefined) {
    schema = doc.components.schemas[name];
  } else {
    const { op } = ops.get(name) ?? {};
    assert.ok(op, `no operation ${name}`);
    const holder = part === 'request' ? op.requestBody : op.responses[part];
    schema = deref(holder)?.content?.['application/json']?.schema;
  }
  for (const step of steps) {
    schema = deref(schema);
    schema = step === '[]' ? schema.items : schema.properties?.[step.slice(1)];
  }
  schema = deref(schema);
  assert.ok(schema?.properties, `docs/openapi.yaml has no object schema at ${where}`);
  return schema;
}

function docNullable(schema) {
  schema = deref(schema);
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  return types.includes('null') || (schema.enum ?? []).includes(null) || schema.const === null;
}

/** name → { required, nullable } of a document schema. */
function docShape(schema) {
  const required = new Set(schema.required ?? []);
  const shape = new Map();
  for (const [name, prop] of Object.entries(schema.properties)) {
    shape.set(name, { required: required.has(name), nullable: docNullable(prop) });
  }
  return shape;
}

// ---- the SDK's types ------------------------------------------------------------------------

const program = ts.createProgram([typesPath], {
  strict: true,
  exactOptionalPropertyTypes: true,
  noEmit: true,
  skipLibCheck: true,
  target: ts.ScriptTarget.ES2020,
  lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
  types: [],
});
const checker = program.getTypeChecker();
const typesFile = program.getSourceFile(typesPath);
const exported = new Map(
  checker.getExportsOfModule(checker.getSymbolAtLocation(typesFile)).map((symbol) => [symbol.name, symbol]),
);

function sdkType(name) {
  const symbol = exported.get(name);
  assert.ok(symbol, `src/types.ts exports no type ${name}`);
  return checker.getDeclaredTypeOfSymbol(symbol);
}

function hasNull(type) {
  const parts = type.isUnion() ? type.types : [type];
  return parts.some((part) => (part.flags & ts.TypeFlags.Null) !== 0);
}

/**
 * name → { required, nullable } of an SDK type. An interface's properties include what it
 * extends, and an intersection's those of each part (the checker resolves both). A union (TS
 * turns `A & (B | C)` into one) has every property of any of its members: required when every
 * member requires it, nullable when any member allows `null`.
 */
function sdkShape(type) {
  if (type.isUnion() && type.types.some((member) => checker.getPropertiesOfType(member).length > 0)) {
    const members = type.types.map(sdkShape);
    const shape = new Map();
    for (const member of members) {
      for (const [name, { nullable }] of member) {
        const seen = shape.get(name);
        shape.set(name, {
          required: members.every((m) => m.get(name)?.required === true),
          nullable: nullable || (seen?.nullable ?? false),
        });
      }
    }
    return shape;
  }
  const shape = new Map();
  for (const symbol of checker.getPropertiesOfType(type)) {
    shape.set(symbol.name, {
      required: (symbol.flags & ts.SymbolFlags.Optional) === 0,
      nullable: hasNull(checker.getTypeOfSymbol(symbol)),
    });
  }
  return shape;
}

/** The SDK type at `Name`, or a property/array-item step into it (`Message.statuses[]`). */
function sdkTypeAt(where) {
  const [name, ...steps] = where.split(/(?=\.|\[\])/);
  let type = sdkType(name);
  for (const step of steps) {
    if (step === '[]') {
      type = checker.getIndexTypeOfType(type, ts.IndexKind.Number);
    } else {
      const symbol = checker.getPropertyOfType(type, step.slice(1));
      assert.ok(symbol, `${where}: no property ${step.slice(1)}`);
      type = checker.getNonNullableType(checker.getTypeOfSymbol(symbol));
    }
    assert.ok(type, `${where}: cannot step into ${step}`);
  }
  return type;
}

// ---- schema → SDK type ----------------------------------------------------------------------

/**
 * Every request and answer body of the document, and the SDK type that models it. `sdk` is one
 * type, or several for a body two SDK types share (compared as their union). `sdkOnly` and
 * `docOnly` are the documented exceptions to "the same property names".
 */
const SCHEMAS = [
  // requests
  { doc: 'SendRequest', sdk: ['SendBody'] }, // = SendCommon & one arm per `type`
  {
    // One body creates a connection or changes one (re-posting its botId): the SDK splits it in
    // two, and the create half requires the fields a new connection cannot go without.
    doc: 'ConnectionRequest',
    sdk: ['CreateConnectionBody', 'UpdateConnectionBody'],
  },
  { doc: 'setResponder request', sdk: ['ResponderSetting'] },
  { doc: 'markRead request', sdk: ['MarkReadBody'] },
  { doc: 'MediaUploadRequest', sdk: ['MediaUploadBody'] },
  { doc: 'MediaUploaded', sdk: ['MediaUploadedBody'] },
  // answers
  { doc: 'markRead 200', sdk: ['MarkReadResult'] },
  { doc: 'Sent', sdk: ['SendResult'] },
  { doc: 'Message', sdk: ['Message'] },
  { doc: 'Message.statuses[]', sdk: ['StatusEvent'] },
  { doc: 'Media', sdk: ['Media'] },
  { doc: 'MediaUpload', sdk: ['MediaUpload'] },
  { doc: 'MediaSent', sdk: ['MediaSent'] },
  { doc: 'Conversation', sdk: ['Conversation'] },
  { doc: 'SyncReport', sdk: ['SyncResult'] },
  { doc: 'Template', sdk: ['Template'] },
  { doc: 'TemplatePage', sdk: ['TemplatePage'] },
  { doc: 'ConnectionCreated', sdk: ['CreatedConnection'] },
  {
    doc: 'Connection',
    sdk: ['Connection'],
    docOnly: {
      apiKey: 'only in the answer to an update with rotateApiKey: UpdatedConnection has it',
      responderSecret: 'only in the answer to an update with rotateResponderSecret: UpdatedConnection has it',
    },
  },
  { doc: 'putConnection 200', sdk: ['UpdatedConnection'] },
  { doc: 'putConnection 201', sdk: ['CreatedConnection'] },
  { doc: 'listConnections 200', sdk: ['ConnectionPage'] },
  { doc: 'deleteConnection 200', sdk: ['DeletedConnection'] },
  { doc: 'Error', sdk: ['ErrorBody'] },
  { doc: 'Error.error', sdk: ['ErrorBody.error'] },
  { doc: 'Error.error.upstream', sdk: ['UpstreamError'] },
];

for (const { doc: where, sdk, sdkOnly = {}, docOnly = {} } of SCHEMAS) {
  test(`openapi ${where} ≡ ${sdk.join(' | ')}`, () => {
    const want = docShape(docSchema(where));
    const types = sdk.map(sdkTypeAt);
    const got = sdkShape(types.length === 1 ? types[0] : { isUnion: () => true, types });
    const problems = [];
    for (const [name, d] of want) {
      const s = got.get(name);
      if (s === undefined) {
        if (!(name in docOnly)) problems.push(`${name}: in the document, not in the SDK`);
        continue;
      }
      if (d.required && !s.required) problems.push(`${name}: required in the document, optional in the SDK`);
      if (!d.required && s.required) problems.push(`${name}: optional in the document, required in the SDK`);
      if (d.nullable && !s.nullable) problems.push(`${name}: may be null in the document, not in the SDK`);
      if (!d.nullable && s.nullable) problems.push(`${name}: may be null in the SDK, not in the document`);
    }
    for (const name of got.keys()) {
      if (!want.has(name) && !(name in sdkOnly)) problems.push(`${name}: in the SDK, not in the document`);
    }
    assert.deepEqual(problems, []);
  });
}

test('every object schema of the document is compared with an SDK type', () => {
  const compared = new Set(SCHEMAS.map(({ doc: where }) => where.split(/[ .[]/)[0]));
  const objects = Object.entries(doc.components.schemas)
    .filter(([, schema]) => schema.properties !== undefined)
    .map(([name]) => name);
  assert.deepEqual(objects.filter((name) => !compared.has(name)), []);
});

// ---- operation → SDK method -----------------------------------------------------------------

/** Every operationId of the document and the client method that calls it. */
const OPERATIONS = {
  send: ['whatsapp.send', 'whatsapp.sendTemplate'],
  getMessage: ['whatsapp.getMessage'],
  getMedia: ['whatsapp.getMedia'],
  createMediaUpload: ['whatsapp.createMediaUpload', 'whatsapp.uploadMedia'],
  sendMediaToWhatsApp: ['whatsapp.sendMedia', 'whatsapp.uploadMedia'],
  markRead: ['whatsapp.markRead'],
  getConversation: ['whatsapp.getConversation'],
  setResponder: ['whatsapp.setResponder'],
  syncTemplates: ['whatsapp.syncTemplates'],
  listTemplates: ['whatsapp.listTemplatesPage', 'whatsapp.listTemplates'],
  putConnection: ['connections.create', 'connections.update'],
  listConnections: ['connections.list'],
  getConnection: ['connections.get'],
  deleteConnection: ['connections.delete'],
};

/** Operations no SDK method calls, and why. */
const EXCLUDED = {
  verifyWebhook: "Meta's verification handshake: Meta calls it, not a client of the API",
  receiveWebhook: "Meta's webhook: Meta calls it, signed with the app secret, not a client of the API",
};

test('every operation of the document is an SDK method, or excluded with a reason', () => {
  const unmapped = [...ops.keys()].filter((id) => !(id in OPERATIONS) && !(id in EXCLUDED));
  assert.deepEqual(unmapped, [], 'operations the SDK has no method for');
  const stale = Object.keys({ ...OPERATIONS, ...EXCLUDED }).filter((id) => !ops.has(id));
  assert.deepEqual(stale, [], 'operationIds the document no longer has');
  const both = Object.keys(OPERATIONS).filter((id) => id in EXCLUDED);
  assert.deepEqual(both, []);
});

/** Client methods that call no operation of the document, and why. */
const SDK_ONLY = {};

test('every client method calls an operation of the document, or is listed as SDK-only', () => {
  const mapped = new Set([...Object.values(OPERATIONS).flat(), ...Object.keys(SDK_ONLY)]);
  const intaj = new Intaj({ baseUrl: 'http://127.0.0.1:1', fetch: async () => new Response() });
  const methods = ['whatsapp', 'connections'].flatMap((group) =>
    Object.getOwnPropertyNames(Object.getPrototypeOf(intaj[group]))
      .filter((name) => name !== 'constructor' && typeof intaj[group][name] === 'function')
      .map((name) => `${group}.${name}`),
  );
  assert.deepEqual(methods.filter((method) => !mapped.has(method)), []);
});

test('every mapped method exists on a constructed client', () => {
  const intaj = new Intaj({ baseUrl: 'http://127.0.0.1:1', apiKey: 'k', adminToken: 't', fetch: async () => {
    throw new Error('no call is made');
  } });
  for (const [id, methods] of Object.entries(OPERATIONS)) {
    assert.ok(methods.length > 0, id);
    for (const method of methods) {
      const [group, name] = method.split('.');
      assert.equal(typeof intaj[group]?.[name], 'function', `${id}: intaj.${method} is not a method`);
    }
  }
});
