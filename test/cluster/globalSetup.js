// jest.cluster.config.js's globalSetup: builds dist/ once for the run (`npm
// run build`: the fleet's nodes run dist/main.js, as `npm start` does) and
// starts the run's PostgreSQL and Redis servers with test/globalSetup.js, the
// one implementation of those; test/cluster/globalTeardown.js removes them.
const { spawn } = require('node:child_process');
const path = require('node:path');
const setUpServers = require('../globalSetup');
const tearDownServers = require('../globalTeardown');

const PROJECT_DIR = path.resolve(__dirname, '..', '..');
const BUILD_TIMEOUT_MS = 300_000;

module.exports = async function globalSetup() {
	// NOTE: both at once: the build is CPU work, the servers mostly wait on disk.
	const [built, servers] = await Promise.allSettled([build(), setUpServers()]);
	if (built.status === 'rejected') {
		if (servers.status === 'fulfilled') {
			await tearDownServers();
		}
		throw built.reason;
	}
	if (servers.status === 'rejected') {
		throw servers.reason;
	}
};

/** `npm run build`, bounded; rejects with its output when it fails. */
function build() {
	const started = Date.now();
	return new Promise((resolve, reject) => {
		const child = spawn('npm', ['run', 'build'], { cwd: PROJECT_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
		let output = '';
		child.stdout.on('data', (chunk) => (output += chunk));
		child.stderr.on('data', (chunk) => (output += chunk));
		const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_MS);
		child.once('error', (error) => {
			clearTimeout(timer);
			reject(new Error(`[cluster globalSetup] cannot run npm run build: ${error.message}`));
		});
		child.once('exit', (code, signal) => {
			clearTimeout(timer);
			if (code === 0) {
				process.stderr.write(`\n[cluster globalSetup] built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
				resolve();
			} else {
				reject(new Error(`[cluster globalSetup] npm run build failed (${signal ?? `code ${code}`}${signal === 'SIGKILL' ? `, after ${BUILD_TIMEOUT_MS} ms` : ''}):\n${output}`));
			}
		});
	});
}
