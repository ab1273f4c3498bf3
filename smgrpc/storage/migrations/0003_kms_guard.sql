-- Key material is never deleted or replaced: a lost key makes every secret under it unreadable
-- for good. Only `enabled` (and `description`) of a kms_keys row may ever change.
-- INSERT OR REPLACE deletes the conflicting row WITHOUT firing delete triggers, so refuse any
-- insert that would collide before the conflict resolution runs.
CREATE TRIGGER kms_keys_no_replace BEFORE INSERT ON kms_keys
WHEN EXISTS (
    SELECT 1 FROM kms_keys
    WHERE key_id = NEW.key_id OR arn = NEW.arn OR (NEW.alias IS NOT NULL AND alias = NEW.alias)
)
BEGIN
    SELECT RAISE(ABORT, 'kms_keys: a key with this id, ARN or alias already exists');
END;
CREATE TRIGGER kms_keys_no_delete BEFORE DELETE ON kms_keys
BEGIN
    SELECT RAISE(ABORT, 'kms_keys: keys are never deleted');
END;
CREATE TRIGGER kms_keys_immutable BEFORE UPDATE ON kms_keys
WHEN NEW.key_id IS NOT OLD.key_id OR NEW.arn IS NOT OLD.arn OR NEW.material IS NOT OLD.material
    OR NEW.created_at IS NOT OLD.created_at OR NEW.alias IS NOT OLD.alias
BEGIN
    SELECT RAISE(ABORT, 'kms_keys: key id, ARN, alias, material and creation date never change');
END;
-- AWS managed keys (alias/aws/...) can't be disabled.
CREATE TRIGGER kms_keys_managed_stay_enabled BEFORE UPDATE OF enabled ON kms_keys
WHEN OLD.alias LIKE 'alias/aws/%' AND NEW.enabled = 0
BEGIN
    SELECT RAISE(ABORT, 'kms_keys: AWS managed keys can''t be disabled');
END
