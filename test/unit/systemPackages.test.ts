import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const script = path.join(root, 'scripts', 'system-packages.mjs');

function run(args: string[], options: { uid?: number } = {}) {
	return spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', ...options });
}

describe('scripts/system-packages.mjs: the README commands install what their tests need', () => {
	const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

	test('npm test, npm run test:cluster, npm run test:worker and npm run test:e2e ensure their package groups first', () => {
		expect(pkg.scripts.pretest).toBe('node scripts/system-packages.mjs --ensure test');
		// npm test runs the cluster tests itself (jest --config jest.cluster.config.js), after pretest.
		expect(pkg.scripts['pretest:cluster']).toBe('node scripts/system-packages.mjs --ensure test');
		expect(pkg.scripts['pretest:worker']).toBe('node scripts/system-packages.mjs --ensure test');
		expect(pkg.scripts['pretest:e2e']).toBe('node scripts/system-packages.mjs --ensure e2e');
	});

	test('the groups hold the programs the tests run: prometheus, postgresql, redis-server and nginx for npm test, chromium and coturn for the browser tests', () => {
		expect(run(['test']).stdout.trim().split(' ')).toEqual(expect.arrayContaining(['prometheus', 'postgresql', 'redis-server', 'nginx', 'openssl']));
		expect(run(['e2e']).stdout.trim().split(' ')).toEqual(expect.arrayContaining(['chromium', 'coturn', 'openssl', 'postgresql']));
		// .ci/run installs every group: each package once.
		const all = run([]).stdout.trim().split(' ');
		expect(new Set(all).size).toBe(all.length);
		expect(run(['nonsense']).status).toBe(1);
	});

	test('without root a missing package stops at once with the exact apt-get line', () => {
		// A copy anyone can read, run as nobody when the test runs as root.
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-packages-'));
		fs.chmodSync(dir, 0o755);
		const copy = path.join(dir, 'packages.mjs');
		fs.copyFileSync(script, copy);
		fs.chmodSync(copy, 0o644);
		const code = `import { ensurePackages } from ${JSON.stringify(copy)}; ensurePackages(['switchyard-no-such-package'], 'for a test');`;
		const asRoot = process.getuid?.() === 0;
		const result = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', cwd: dir, ...(asRoot ? { uid: 65534, gid: 65534 } : {}) });
		fs.rmSync(dir, { recursive: true, force: true });
		expect(result.status).toBe(1);
		expect(result.stderr).toContain('missing Debian packages for a test: switchyard-no-such-package');
		expect(result.stderr).toContain('run as root: apt-get update && apt-get install -y --no-install-recommends switchyard-no-such-package');
	});
});
