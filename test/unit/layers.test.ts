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

describe('the structure of src/', () => {
	test('dependency-cruiser finds no import circle, no import around an index.ts and no layer pointing up (.dependency-cruiser.cjs)', () => {
		const bin = path.join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
		const result = spawnSync(process.execPath, [bin, 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], {
			cwd: root, encoding: 'utf8', timeout: 60_000,
		});
		expect({ status: result.status, output: `${result.stdout}${result.stderr}`.trim() }).toEqual({ status: 0, output: expect.any(String) });
	}, 90_000);

	test('the rules are live: an import from rooms/ into signaling/ is reported', () => {
		// NOTE: a rule that matches nothing passes every tree; this feeds it one known violation.
		const bin = path.join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
		const probe = path.join(root, 'src', 'rooms', '__layersProbe.ts');
		fs.writeFileSync(probe, "import type { Ack } from '../signaling/protocol';\nexport type Probe = Ack<unknown>;\n");
		try {
			const result = spawnSync(process.execPath, [bin, 'src/rooms/__layersProbe.ts', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], {
				cwd: root, encoding: 'utf8', timeout: 60_000,
			});
			expect(result.status).not.toBe(0);
			expect(result.stdout).toContain('domain-not-wire: src/rooms/__layersProbe.ts → src/signaling/protocol.ts');
			expect(result.stdout).toContain('through-index: src/rooms/__layersProbe.ts → src/signaling/protocol.ts');
		} finally {
			fs.rmSync(probe, { force: true });
		}
	}, 90_000);

	test('no non-test .ts file under src/ is over 400 lines', () => {
		const long = filesUnder('src')
			.filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
			.map((file) => [file, fs.readFileSync(path.join(root, file), 'utf8').split('\n').length - 1] as const)
			.filter(([, lines]) => lines > 400);
		expect(long).toEqual([]);
	});
});
