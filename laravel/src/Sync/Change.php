<?php

namespace PosSync\Laravel\Sync;

use PosSync\Laravel\Protocol\Canonical;

/** One change of an upload, already checked for shape. */
final class Change
{
    /** The canonical JSON of the payload, computed once for both checksums and storage. */
    public readonly string $canonicalPayload;

    public function __construct(
        public readonly string $changeId,
        public readonly string $entityType,
        public readonly string $entityId,
        public readonly string $action,
        public readonly int $hlc,
        public readonly ?int $baseVersion,
        public readonly mixed $payload,
        public readonly string $checksum,
    ) {
        $this->canonicalPayload = Canonical::json($payload);
    }

    /** The change reduced to its eight fields, as canonical JSON (for the batch checksum). */
    public function canonical(): string
    {
        return '{"action":"' . $this->action . '"'
            . ($this->baseVersion === null ? '' : ',"base_version":' . $this->baseVersion)
            . ',"change_id":' . Canonical::string($this->changeId)
            . ',"checksum":' . Canonical::string($this->checksum)
            . ',"entity_id":' . Canonical::string($this->entityId)
            . ',"entity_type":"' . $this->entityType . '"'
            . ',"hlc":' . $this->hlc
            . ',"payload":' . $this->canonicalPayload . '}';
    }
}
