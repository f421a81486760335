import fs from 'node:fs';
import path from 'node:path';

export type Panel = {
	id: number;
	type: string;
	title?: string;
	gridPos?: { x: number; y: number; w: number; h: number };
	datasource?: { type: string; uid: string };
	fieldConfig?: { defaults?: { unit?: string } };
	targets?: { refId: string; expr?: string; datasource?: { uid: string } }[];
};
export type Dashboard = { uid: string; title: string; panels: Panel[]; templating: { list: { name: string; type: string; query?: unknown }[] } };

const dir = path.resolve(__dirname, '..', '..', 'grafana', 'dashboards');
/** Every dashboard JSON of grafana/dashboards, by file name. */
export const dashboards: [string, Dashboard][] = fs.readdirSync(dir).filter((f) => f.endsWith('.json'))
	.map((f) => [f, JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Dashboard]);
