<?php

namespace PosSync\Laravel\Devices;

/** The authenticated caller. Every read and write of its request is scoped to `storeId`. */
final class Device
{
    public function __construct(
        public readonly string $deviceId,
        public readonly string $storeId,
    ) {
    }
}
