import { dashboards } from '../helpers/dashboards';

describe('Grafana dashboards', () => {
	test('the four dashboards are there, with unique uids', () => {
		expect(dashboards.map(([file]) => file).sort()).toEqual(['calls.json', 'capacity.json', 'media-quality.json', 'overview.json']);
		expect(new Set(dashboards.map(([, d]) => d.uid)).size).toBe(4);
	});

	describe.each(dashboards)('%s', (_file, dashboard) => {
		test('the data source is a variable, and every panel and target uses it', () => {
			const variable = dashboard.templating.list.find((v) => v.name === 'datasource');
			expect(variable).toMatchObject({ type: 'datasource', query: 'prometheus' });
			for (const panel of dashboard.panels) {
				expect([panel.title, panel.datasource?.uid]).toEqual([panel.title, '${datasource}']);
				for (const target of panel.targets ?? []) {
					expect([panel.title, target.datasource?.uid]).toEqual([panel.title, '${datasource}']);
				}
			}
		});

		test('panel ids are unique', () => {
			const ids = dashboard.panels.map((p) => p.id);
			expect(new Set(ids).size).toBe(ids.length);
		});

		test('every panel has a title, a unit, at least one query and a valid place on the 24-column grid', () => {
			for (const panel of dashboard.panels) {
				expect(panel.title?.trim()).toBeTruthy();
				expect([panel.title, panel.fieldConfig?.defaults?.unit]).toEqual([panel.title, expect.any(String)]);
				expect(panel.targets?.length).toBeGreaterThan(0);
				for (const target of panel.targets ?? []) {
					expect(target.expr?.trim()).toBeTruthy();
				}
				const grid = panel.gridPos!;
				for (const n of [grid.x, grid.y, grid.w, grid.h]) {
					expect(Number.isInteger(n) && n >= 0).toBe(true);
				}
				expect(grid.w).toBeGreaterThan(0);
				expect(grid.h).toBeGreaterThan(0);
				expect(grid.x + grid.w).toBeLessThanOrEqual(24);
			}
		});

		test('panels do not overlap', () => {
			const cells = new Set<string>();
			for (const { title, gridPos: g } of dashboard.panels) {
				for (let x = g!.x; x < g!.x + g!.w; x++) {
					for (let y = g!.y; y < g!.y + g!.h; y++) {
						const cell = `${x},${y}`;
						expect([title, cells.has(cell)]).toEqual([title, false]);
						cells.add(cell);
					}
				}
			}
		});

		test('queries use only switchyard_ metrics and the default process metrics, filtered by $instance', () => {
			for (const panel of dashboard.panels) {
				for (const target of panel.targets ?? []) {
					expect(target.expr).toContain('instance=~"$instance"');
					for (const metric of target.expr!.match(/\b[a-z_]+(?=\{)/g) ?? []) {
						expect(metric).toMatch(/^(switchyard_|process_|nodejs_)/);
					}
				}
			}
		});
	});
});
