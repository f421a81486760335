/**
 * The layering of src/ (and sdk/ apart from it), as rules that `npm test` checks (test/unit/layers.test.ts).
 * Dependencies point one way: signaling/http/web -> links -> rooms/calls/accounts ->
 * media/policy/store -> util/errors/config/logging; a folder is imported only
 * through its index.ts; no import circle between any two files.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
	forbidden: [
		{
			name: 'no-circular',
			comment: 'Two files of src/ that import each other, directly or around a circle.',
			severity: 'error',
			from: { path: '^src/' },
			to: { circular: true },
		},
		{
			name: 'through-index',
			comment: 'A folder is imported only through its index.ts (its files import each other freely). ' +
				'The browser bundle and the protocol files it shares have rules of their own below.',
			severity: 'error',
			from: { path: '^src/([^/]+)/', pathNot: ['^src/web/client/', '^src/signaling/(protocol|schemas)\\.ts$'] },
			to: { path: '^src/[^/]+/', pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$'] },
		},
		{
			name: 'through-index-from-the-root',
			comment: 'main.ts, node.ts and app.ts import folders through their index.ts too.',
			severity: 'error',
			from: { path: '^src/[^/]+\\.ts$' },
			to: { path: '^src/[^/]+/', pathNot: '^src/[^/]+/index\\.ts$' },
		},
		{
			name: 'browser-client',
			comment: 'The web client is its own program, bundled for the browser: of the server it imports only the ' +
				'protocol, whose schemas its types are derived from, and the error catalogue.',
			severity: 'error',
			from: { path: '^src/web/client/' },
			to: { path: '^src/', pathNot: ['^src/web/client/', '^src/signaling/protocol\\.ts$', '^src/errors/index\\.ts$'] },
		},
		{
			name: 'protocol-is-browser-safe',
			comment: 'protocol.ts and schemas.ts are bundled into the browser too: they import no Node-only module, ' +
				'so files by path, never an index that pulls the server in (media/rtpSchemas.ts imports only zod).',
			severity: 'error',
			from: { path: '^src/signaling/(protocol|schemas)\\.ts$' },
			to: { pathNot: ['^src/signaling/(protocol|schemas)\\.ts$', '^src/util/displayText\\.ts$', '^src/media/rtpSchemas\\.ts$', '^src/errors/index\\.ts$', 'node_modules/zod/'] },
		},
		{
			name: 'domain-not-wire',
			comment: 'rooms/, calls/, links/ and accounts/ know nothing of the wire: signaling/ and http/ map domain to wire.',
			severity: 'error',
			from: { path: '^src/(rooms|calls|links|accounts|webhooks)/' },
			to: { path: '^src/(signaling|http|web)/' },
		},
		{
			name: 'foundations-not-domain',
			comment: 'media/, policy/, store/ and cluster/ sit below the domain and the wire.',
			severity: 'error',
			from: { path: '^src/(media|policy|store|cluster)/' },
			to: { path: '^src/(rooms|calls|links|accounts|webhooks|signaling|http|web|metrics)/' },
		},
		{
			name: 'sdk-stands-alone',
			comment: 'sdk/ is what a platform\'s backend copies or installs: it imports nothing of the server, ' +
				'and the server nothing of it (tests may import both).',
			severity: 'error',
			from: { path: '^sdk/' },
			to: { path: '^src/' },
		},
		{
			name: 'server-not-sdk',
			comment: 'The server keeps its own schemas; sdk/ writes the wire out for backends (sdk/src/types.ts).',
			severity: 'error',
			from: { path: '^src/' },
			to: { path: '^sdk/' },
		},
		{
			name: 'policy-is-pure',
			comment: 'The bitrate and simulcast policy takes data and returns decisions: no mediasoup.',
			severity: 'error',
			from: { path: '^src/policy/' },
			to: { path: '(^src/media/|mediasoup)' },
		},
	],
	options: {
		doNotFollow: { path: 'node_modules' },
		exclude: { path: '\\.test\\.ts$' },
		tsConfig: { fileName: 'tsconfig.json' },
		tsPreCompilationDeps: true,
	},
};
