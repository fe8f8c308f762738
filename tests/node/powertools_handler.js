// A Lambda handler written for Powertools' Kafka utility, served over HTTP
// as a kesm url function: every record's deserialized key and value, with
// its schema metadata, is printed as one JSON line on stdout.
// Usage: node powertools_handler.js   (prints "port N" first)
'use strict';
const http = require('node:http');
const { kafkaConsumer } = require('@aws-lambda-powertools/kafka');

const handler = kafkaConsumer(async (event) => {
  for (const record of event.records) {
    process.stdout.write(JSON.stringify({
      topic: record.topic, partition: record.partition, offset: record.offset,
      value: record.value, valueSchemaMetadata: record.valueSchemaMetadata,
    }) + '\n');
  }
  return {};
}, { value: { type: 'json' } });

const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', async () => {
    try {
      const out = await handler(JSON.parse(body), {});
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(out));
    } catch (e) {
      process.stderr.write('handler failed: ' + e.stack + '\n');
      res.writeHead(500, { 'X-Amz-Function-Error': 'Unhandled' });
      res.end(JSON.stringify({ errorMessage: String(e) }));
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write('port ' + server.address().port + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
