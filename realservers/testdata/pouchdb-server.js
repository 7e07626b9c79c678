// An in-memory PouchDB server (CouchDB's HTTP API) for occ's tests:
// node pouchdb-server.js PORT, with NODE_PATH naming the node_modules that
// .ci/servers.sh installed.
const PouchDB = require('pouchdb-core')
  .plugin(require('pouchdb-adapter-memory'))
  .plugin(require('pouchdb-adapter-http'))
  .plugin(require('pouchdb-mapreduce'))
  .plugin(require('pouchdb-replication'))
  .defaults({ adapter: 'memory' });
const app = require('express-pouchdb')(PouchDB, { mode: 'minimumForPouchDB', inMemoryConfig: true, logPath: '/dev/null' });
app.listen(Number(process.argv[2]), '127.0.0.1');
