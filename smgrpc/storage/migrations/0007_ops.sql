-- Region incarnation (README "Backup and restore"): a data dir restored from a backup gets a
-- new incarnation id (meta 'incarnation'); each side remembers the incarnation of the peer it
-- last synchronised with, and a different one means a resync with a snapshot.
ALTER TABLE repl_applied ADD COLUMN incarnation TEXT NOT NULL DEFAULT '';
ALTER TABLE repl_cursor ADD COLUMN incarnation TEXT NOT NULL DEFAULT '';
-- Customer key rotation (README "Key rotation"): material term 0 is kms_keys.material; each
-- rotation adds term N+1, wrapped by the master key (AAD = key id and term). Older terms stay
-- for decryption: rows are never deleted or replaced.
CREATE TABLE kms_materials (
    key_id     TEXT NOT NULL REFERENCES kms_keys(key_id),
    term       INTEGER NOT NULL CHECK (term >= 1),
    created_at REAL NOT NULL,
    material   BLOB NOT NULL,
    PRIMARY KEY (key_id, term)
);
-- How many data keys each material has wrapped (AES-GCM random nonces: bounded, see README).
CREATE TABLE kms_usage (
    key_id TEXT NOT NULL,
    term   INTEGER NOT NULL,
    sealed INTEGER NOT NULL,
    PRIMARY KEY (key_id, term)
);
CREATE TRIGGER kms_materials_no_replace BEFORE INSERT ON kms_materials
WHEN EXISTS (SELECT 1 FROM kms_materials WHERE key_id = NEW.key_id AND term = NEW.term)
BEGIN
    SELECT RAISE(ABORT, 'kms_materials: this key already has this term');
END;
CREATE TRIGGER kms_materials_no_delete BEFORE DELETE ON kms_materials
BEGIN
    SELECT RAISE(ABORT, 'kms_materials: key material is never deleted');
END;
CREATE TRIGGER kms_materials_immutable BEFORE UPDATE ON kms_materials
WHEN NEW.key_id IS NOT OLD.key_id OR NEW.term IS NOT OLD.term
    OR NEW.created_at IS NOT OLD.created_at
BEGIN
    SELECT RAISE(ABORT, 'kms_materials: key id, term and creation date never change');
END;
-- Master key rotation re-wraps material (same key bytes, new wrapping): allowed only inside
-- the rotation's own transaction, which holds the meta 'rekey' marker from its first to its
-- last statement (never committed), and only to a wrap of the same shape.
CREATE TRIGGER kms_materials_rewrap_only BEFORE UPDATE OF material ON kms_materials
WHEN NEW.material IS NOT OLD.material AND (
    NOT EXISTS (SELECT 1 FROM meta WHERE k = 'rekey') OR length(NEW.material) != 60)
BEGIN
    SELECT RAISE(ABORT, 'kms_materials: material is only re-wrapped by a master key rotation');
END;
DROP TRIGGER kms_keys_immutable;
CREATE TRIGGER kms_keys_immutable BEFORE UPDATE ON kms_keys
WHEN NEW.key_id IS NOT OLD.key_id OR NEW.arn IS NOT OLD.arn
    OR NEW.created_at IS NOT OLD.created_at OR NEW.alias IS NOT OLD.alias
    OR (NEW.material IS NOT OLD.material AND (
        NOT EXISTS (SELECT 1 FROM meta WHERE k = 'rekey') OR length(NEW.material) != 60))
BEGIN
    SELECT RAISE(ABORT, 'kms_keys: key id, ARN, alias, material and creation date never change');
END
