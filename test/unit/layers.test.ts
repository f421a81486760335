import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

/** Every file below `dir`, as paths relative to the project. */
function filesUnder(dir: string): string[] {
	return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
		const relative = path.join(dir, entry.name);
		return entry.isDirectory() ? filesUnder(relative) : [relative];
	});
}

/** dependency-cruiser's verdict on `paths` under .dependency-cruiser.cjs. */
function cruise(...paths: string[]) {
	const bin = path.join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
	return spawnSync(process.execPath, [bin, ...paths, '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], {
		cwd: root, encoding: 'utf8', timeout: 60_000,
	});
}

/** What dependency-cruiser says of a file `file` holding `source`, written for the call and removed. */
function cruiseProbe(file: string, source: string) {
	const probe = path.join(root, file);
	fs.writeFileSync(probe, source);
	try {
		return cruise(file);
	} finally {
		fs.rmSync(probe, { force: true });
	}
}

describe('the structure of src/', () => {
	test('dependency-cruiser finds no import circle, no import around an index.ts, no layer pointing up and no import between src/ and sdk/ (.dependency-cruiser.cjs)', () => {
		const result = cruise('src', 'sdk/src');
		expect({ status: result.status, output: `${result.stdout}${result.stderr}`.trim() }).toEqual({ status: 0, output: expect.any(String) });
	}, 90_000);

	test('the rules are live: an import from rooms/ into signaling/ is reported', () => {
		// NOTE: a rule that matches nothing passes every tree; this feeds it one known violation.
		const result = cruiseProbe('src/rooms/__layersProbe.ts', "import type { Ack } from '../signaling/protocol';\nexport type Probe = Ack<unknown>;\n");
		expect(result.status).not.toBe(0);
		expect(result.stdout).toContain('domain-not-wire: src/rooms/__layersProbe.ts → src/signaling/protocol.ts');
		expect(result.stdout).toContain('through-index: src/rooms/__layersProbe.ts → src/signaling/protocol.ts');
	}, 90_000);

	test('the rules are live: an import from sdk/ into src/, and one from src/ into sdk/, is reported', () => {
		const fromSdk = cruiseProbe('sdk/src/__layersProbe.ts', "import type { AppError } from '../../src/errors';\nexport type Probe = AppError;\n");
		expect(fromSdk.stdout).toContain('sdk-stands-alone: sdk/src/__layersProbe.ts → src/errors/index.ts');
		const fromSrc = cruiseProbe('src/util/__layersProbe.ts', "import type { WebhookEvent } from '../../sdk/src';\nexport type Probe = WebhookEvent;\n");
		expect(fromSrc.stdout).toContain('server-not-sdk: src/util/__layersProbe.ts → sdk/src/index.ts');
		expect([fromSdk.status, fromSrc.status]).not.toContain(0);
	}, 90_000);

	test('no non-test .ts file under src/ is over 400 lines', () => {
		const long = filesUnder('src')
			.filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
			.map((file) => [file, fs.readFileSync(path.join(root, file), 'utf8').split('\n').length - 1] as const)
			.filter(([, lines]) => lines > 400);
		expect(long).toEqual([]);
	});
});
