-- Schema v4: the claim index also carries what the queue statistics sum, so counting the
-- queue reads the index alone. Summing sizes and ages over the unsynced rows read every
-- one of them, payload and all; with a status listener attached (every app shows the
-- sync status) that ran after each upload batch and made a 100k-sale backlog upload
-- 2.5 times slower. The claim reads the same (status, priority, seq) prefix as before.
DROP INDEX sync_queue_claim;
CREATE INDEX sync_queue_claim ON sync_queue (status, priority, seq, created_at, payload_bytes, rejected);
-- Also from this version, a downloaded catalog page journals its records' pre-images in one
-- undo_journal row: an empty entity_id and a pre_image array of [id, row or null] (see
-- history::journal_page). Rows per record keep the v1 form.
