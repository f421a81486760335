export { MIGRATIONS, migrate } from './migrations';
export { SqliteStore } from './SqliteStore';
export type { CallRecord, HistoryCursor, PublicUser, RelationKind, RelationsBetween, Session, Store, User } from './types';
