<?php

namespace PosSync\Laravel\Sync;

use PosSync\Laravel\Protocol\Canonical;

/**
 * One record as the server holds it. The payload is kept as the canonical JSON text it was
 * stored as, so answers splice it in instead of decoding and encoding it again.
 */
final class StoredRecord
{
    public function __construct(
        public readonly string $entityType,
        public readonly string $entityId,
        public readonly int $version,
        public readonly bool $deleted,
        public readonly int $updatedHlc,
        /** Canonical JSON text; null for a tombstone. */
        public readonly ?string $payload,
        public readonly string $checksum,
        public readonly int $seq = 0,
    ) {
    }

    /** The tombstone standing for a record the server never had (version 0). */
    public static function missing(string $entityType, string $entityId): self
    {
        return new self($entityType, $entityId, 0, true, 0, null, Canonical::NULL_CHECKSUM);
    }

    public static function fromRow(object $row): self
    {
        return new self(
            $row->entity_type,
            $row->entity_id,
            (int) $row->version,
            (bool) $row->deleted,
            (int) $row->updated_hlc,
            $row->payload,
            $row->checksum,
            (int) $row->seq,
        );
    }

    /**
     * The record as JSON. Keys in sorted order and the payload already canonical: this text is
     * also the record's canonical JSON, so a page checksum is the hash of the joined texts.
     */
    public function json(): string
    {
        return '{"checksum":"' . $this->checksum . '","deleted":' . ($this->deleted ? 'true' : 'false')
            . ',"entity_id":' . Canonical::string($this->entityId)
            . ',"entity_type":"' . $this->entityType . '","payload":' . ($this->payload ?? 'null')
            . ',"updated_hlc":' . $this->updatedHlc . ',"version":' . $this->version . '}';
    }

    /** The record decoded, for embedding in an answer built with json_encode. */
    public function value(): \stdClass
    {
        return json_decode($this->json(), false, 512, JSON_THROW_ON_ERROR);
    }
}
