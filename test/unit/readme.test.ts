import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

const root = path.resolve(__dirname, '..', '..');

function leafKeys(node: Record<string, unknown>, prefix = ''): string[] {
	return Object.entries(node).flatMap(([key, value]) => {
		const keyPath = prefix ? `${prefix}.${key}` : key;
		return value && typeof value === 'object' && !Array.isArray(value) ? leafKeys(value as Record<string, unknown>, keyPath) : [keyPath];
	});
}

describe('README', () => {
	const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

	test('shows the two quick-start commands', () => {
		expect(readme).toContain('npm install && npm start');
		expect(readme).toMatch(/^npm test\b/m);
	});

	test('documents every config key of config/default.yaml', () => {
		const defaults = YAML.parse(fs.readFileSync(path.join(root, 'config', 'default.yaml'), 'utf8')) as Record<string, unknown>;
		const missing = leafKeys(defaults).filter((key) => !readme.includes(`| \`${key}\` |`));
		expect(missing).toEqual([]);
	});
});
