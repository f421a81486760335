import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

// There is no Docker engine on the build machines: read the Dockerfile and
// check what an operator relies on.
const root = path.resolve(__dirname, '..', '..');
const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
const lines = dockerfile.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
const defaults = YAML.parse(fs.readFileSync(path.join(root, 'config', 'default.yaml'), 'utf8')) as { http: { port: number }; media: { port: number } };
const stages = dockerfile.split(/^FROM /m).slice(1);
const runtime = stages.at(-1)!;

describe('Dockerfile', () => {
	test('multi-stage, on a Debian bookworm Node 20 image', () => {
		expect(stages.length).toBeGreaterThanOrEqual(2);
		for (const stage of stages) {
			expect(stage.split('\n')[0]).toMatch(/^node:20-bookworm/);
		}
	});

	test('the final stage runs as a non-root user', () => {
		const users = runtime.split('\n').filter((l) => /^USER\s+/.test(l.trim()));
		expect(users.length).toBeGreaterThan(0);
		expect(users.at(-1)!.trim()).not.toMatch(/^USER\s+(root|0)(:|\s|$)/);
	});

	test('a HEALTHCHECK on /healthz', () => {
		expect(runtime).toMatch(/HEALTHCHECK[\s\S]*\/healthz/);
	});

	test('EXPOSE matches the config defaults: the HTTP port and UDP and TCP media ports from media.port', () => {
		const exposed = lines.filter((l) => l.startsWith('EXPOSE')).join(' ');
		expect(exposed).toContain(String(defaults.http.port));
		expect(exposed).toMatch(new RegExp(`\\b${defaults.media.port}(-\\d+)?/udp`));
		expect(exposed).toMatch(new RegExp(`\\b${defaults.media.port}(-\\d+)?/tcp`));
	});

	test('RUN steps call the scripts CI calls: the system package list, npm ci (which builds the worker), npm run build', () => {
		const runs = lines.filter((l) => l.startsWith('RUN')).join('\n');
		const ci = fs.readFileSync(path.join(root, '.ci', 'run'), 'utf8');
		expect(ci).toContain('scripts/system-packages.mjs');
		expect(runs).toContain('scripts/system-packages.mjs');
		expect(ci).toContain('npm ci');
		expect(runs).toMatch(/npm ci\b/);
		expect(runs).toContain('npm run build');
		const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
		expect(pkg.scripts.postinstall).toContain('scripts/build-worker.mjs');
	});

	test('config comes from the environment; the node listens beyond loopback in the container', () => {
		expect(runtime).toMatch(/ENV[\s\S]*SWITCHYARD_HTTP_HOST=0\.0\.0\.0/);
		expect(runtime).toMatch(/COPY[^\n]*config/);
	});
});
