export { MIGRATIONS, migrate } from './migrations';
export { SqliteStore } from './SqliteStore';
export { DEFAULT_SETTINGS } from './types';
export type {
	CallRecord, HistoryCursor, PublicUser, RelationKind, RelationsBetween, Session, Store, User, UserSettings,
} from './types';
