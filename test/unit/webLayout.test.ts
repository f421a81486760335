import { fitTiles } from '../../src/web/client/layout';

describe('the web client grid: fitTiles', () => {
	test.each([
		// count, box, expected columns, expected shape
		[1, [1256, 690], 1, 16 / 9],
		[3, [1256, 690], 2, 16 / 9],
		[4, [1256, 690], 2, 16 / 9],
		[6, [1256, 690], 3, 16 / 9],
		[3, [366, 660], 1, 16 / 9],
		[2, [366, 660], 1, 1],
	])('%i tiles in %j: %i columns', (count, [width, height], columns, aspect) => {
		const fit = fitTiles(count, width!, height!);
		expect(fit.columns).toBe(columns);
		expect(fit.aspect).toBeCloseTo(aspect);
		expect(fit.scroll).toBe(false);
		// The tiles fit the box.
		const rows = Math.ceil(count / fit.columns);
		expect(fit.columns * fit.tileWidth + (fit.columns - 1) * 10).toBeLessThanOrEqual(width!);
		expect(rows * fit.tileHeight + (rows - 1) * 10).toBeLessThanOrEqual(height!);
	});

	test('a phone in a big room: tiles keep a usable size and the grid scrolls', () => {
		const fit = fitTiles(20, 366, 660);
		expect(fit.scroll).toBe(true);
		expect(fit.columns).toBe(2);
		expect(fit.tileWidth).toBeGreaterThanOrEqual(150);
	});

	test('an empty or hidden box gives zero-sized tiles, not NaN', () => {
		expect(fitTiles(3, 0, 0)).toMatchObject({ columns: 1, tileWidth: 0, tileHeight: 0 });
	});
});
