// Calling smgrpc from Node.js: create, read and list secrets, and decode an error's details.
//
//   cd examples/node && npm ci
//   SMGRPC_ENDPOINT=127.0.0.1:50051 SMGRPC_TOKEN_FILE=../../smgrpc-data/us-east-1/admin.token \
//     node example.js [name-prefix]
//
// Environment: SMGRPC_ENDPOINT (default 127.0.0.1:50051), SMGRPC_TOKEN_FILE or SMGRPC_TOKEN
// (`<AccessKeyId>:<SecretAccessKey>`), SMGRPC_CA_FILE (TLS; plaintext without it), SMGRPC_PROTOS
// (default: the repository's protos/). Prints one JSON object per step on stdout.
'use strict';

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');
const googleProtos = require('google-proto-files');

const PROTOS = process.env.SMGRPC_PROTOS || path.resolve(__dirname, '..', '..', 'protos');
// The googleapis protos (google/rpc/*.proto) from npm, where secretsmanager.proto's import of
// google/rpc/error_details.proto resolves.
const GOOGLEAPIS = googleProtos.getProtoPath('..');

function token() {
  if (process.env.SMGRPC_TOKEN) return process.env.SMGRPC_TOKEN.trim();
  const file = process.env.SMGRPC_TOKEN_FILE;
  if (!file) throw new Error('set SMGRPC_TOKEN_FILE (or SMGRPC_TOKEN)');
  return fs.readFileSync(file, 'utf8').trim();
}

function client() {
  const definition = protoLoader.loadSync('smgrpc/secretsmanager/v1/secretsmanager.proto', {
    includeDirs: [PROTOS, GOOGLEAPIS],
    keepCase: false, // proto-loader's default: secret_id is secretId (see the README)
    longs: String,
    defaults: false,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(definition).smgrpc.secretsmanager.v1;
  const ca = process.env.SMGRPC_CA_FILE;
  // The credential goes in each call's metadata (see call()): grpc-js attaches call
  // credentials only to TLS channels, and a loopback server may well be plaintext.
  const channel = ca
    ? grpc.credentials.createSsl(fs.readFileSync(ca))
    : grpc.credentials.createInsecure();
  const endpoint = process.env.SMGRPC_ENDPOINT || '127.0.0.1:50051';
  return new pkg.SecretsManager(endpoint, channel);
}

// google.rpc.Status and the error detail types, to decode the grpc-status-details-bin trailer.
const details = (() => {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(GOOGLEAPIS, target);
  root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto']);
  return {
    Status: root.lookupType('google.rpc.Status'),
    types: {
      'type.googleapis.com/google.rpc.ErrorInfo': root.lookupType('google.rpc.ErrorInfo'),
      'type.googleapis.com/google.rpc.RequestInfo': root.lookupType('google.rpc.RequestInfo'),
      'type.googleapis.com/google.rpc.BadRequest': root.lookupType('google.rpc.BadRequest'),
      'type.googleapis.com/google.rpc.RetryInfo': root.lookupType('google.rpc.RetryInfo'),
    },
  };
})();

// The AWS view of a failed call: code, message, request id (from the rich error details).
function awsError(err) {
  const out = { grpcCode: grpc.status[err.code], message: err.details };
  const [bin] = err.metadata ? err.metadata.get('grpc-status-details-bin') : [];
  if (!bin) return out;
  const status = details.Status.decode(bin);
  for (const any of status.details) {
    const type = details.types[any.type_url || any.typeUrl];
    if (!type) continue;
    const detail = type.toObject(type.decode(any.value), { longs: String });
    if (type.name === 'ErrorInfo') {
      out.reason = detail.reason;
      out.domain = detail.domain;
      out.awsErrorCode = detail.metadata.awsErrorCode;
    } else if (type.name === 'RequestInfo') {
      out.requestId = detail.requestId;
    }
  }
  return out;
}

function call(sm, method, request) {
  const md = new grpc.Metadata();
  md.add('authorization', `Bearer ${token()}`);
  return new Promise((resolve, reject) => {
    sm[method](request, md, { deadline: Date.now() + 10000 }, (err, response) =>
      err ? reject(err) : resolve(response));
  });
}

function print(step, fields) {
  process.stdout.write(JSON.stringify({ step, ...fields }) + '\n');
}

async function main() {
  const prefix = process.argv[2] || `examples/node-${crypto.randomBytes(4).toString('hex')}/`;
  const sm = client();
  try {
    const names = [`${prefix}db-password`, `${prefix}api-key`];
    for (const [i, name] of names.entries()) {
      // An idempotency token, as the AWS SDKs send: a retry with it cannot create twice.
      const clientRequestToken = crypto.randomUUID();
      const created = await call(sm, 'createSecret', {
        name,
        clientRequestToken,
        secretString: `value-${i}-from-node`,
        description: 'made by examples/node',
        tags: [{ key: 'example', value: 'node' }],
      });
      print('created', { name: created.name, arn: created.arn, versionId: created.versionId });
    }

    const got = await call(sm, 'getSecretValue', { secretId: names[0] });
    print('read', {
      name: got.name, value: got.secretString, versionId: got.versionId,
      versionStages: got.versionStages,
    });

    const listed = [];
    let nextToken;
    do {
      const page = await call(sm, 'listSecrets', {
        filters: [{ key: 'name', values: [prefix] }], maxResults: 1, nextToken,
      });
      listed.push(...page.secretList.map((s) => s.name));
      nextToken = page.nextToken;
    } while (nextToken);
    print('listed', { names: listed });

    try {
      await call(sm, 'getSecretValue', { secretId: `${prefix}does-not-exist` });
      print('unexpected', {});
    } catch (err) {
      print('error', awsError(err));
    }
  } finally {
    sm.close();
  }
}

main().catch((err) => {
  process.stderr.write(`example failed: ${err.message}\n`);
  if (err.metadata) process.stderr.write(JSON.stringify(awsError(err)) + '\n');
  process.exit(1);
});
