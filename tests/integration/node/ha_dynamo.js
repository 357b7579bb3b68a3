// DynamoDB for the HA tests: dynalite (a DynamoDB implementation on LevelDB,
// in memory here) on a loopback port the kernel picks, and the AWS SDK for
// JavaScript to create tables and read the lease records, so what qscale
// writes is checked by a client other than qscale itself.
//   node ha_dynamo.js serve                      prints "port N", runs until stdin closes
//   node ha_dynamo.js create URL TABLE KEY TYPE [SORTKEY]
//   node ha_dynamo.js get URL TABLE NAME         prints the item as JSON ({} when none)
'use strict';

const { DynamoDBClient, CreateTableCommand, GetItemCommand, DescribeTableCommand } =
  require('@aws-sdk/client-dynamodb');

function client(url) {
  return new DynamoDBClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIAQSCALETEST', secretAccessKey: 'qscale-test-secret' },
    maxAttempts: 2,
  });
}

async function main(argv) {
  const cmd = argv[0];
  if (cmd === 'serve') {
    const dynalite = require('dynalite');
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    server.listen(0, '127.0.0.1', () => {
      process.stdout.write(`port ${server.address().port}\n`);
    });
    process.stdin.resume();
    process.stdin.on('end', () => process.exit(0));
    return;
  }
  if (cmd === 'create') {
    const [url, table, key, type, sortKey] = argv.slice(1);
    const schema = [{ AttributeName: key, KeyType: 'HASH' }];
    const defs = [{ AttributeName: key, AttributeType: type }];
    if (sortKey) {
      schema.push({ AttributeName: sortKey, KeyType: 'RANGE' });
      defs.push({ AttributeName: sortKey, AttributeType: 'S' });
    }
    const c = client(url);
    await c.send(new CreateTableCommand({
      TableName: table, KeySchema: schema, AttributeDefinitions: defs,
      BillingMode: 'PAY_PER_REQUEST',
    }));
    for (let i = 0; i < 100; i++) {
      const d = await c.send(new DescribeTableCommand({ TableName: table }));
      if (d.Table.TableStatus === 'ACTIVE') return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`table ${table} did not become ACTIVE`);
  }
  if (cmd === 'get') {
    const [url, table, name] = argv.slice(1);
    const out = await client(url).send(new GetItemCommand({
      TableName: table, Key: { lease: { S: name } }, ConsistentRead: true,
    }));
    process.stdout.write(JSON.stringify(out.Item || {}) + '\n');
    return;
  }
  throw new Error(`unknown command ${cmd}`);
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`${e.name}: ${e.message}\n`);
  process.exit(1);
});
