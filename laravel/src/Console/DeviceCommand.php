<?php

namespace PosSync\Laravel\Console;

use Illuminate\Console\Command;
use PosSync\Laravel\Devices\DeviceRegistry;

/** `php artisan pos-sync:device create|list|revoke`: device tokens. */
final class DeviceCommand extends Command
{
    protected $signature = 'pos-sync:device
        {action : create, list or revoke}
        {--store= : the store the device belongs to}
        {--device= : the device id (for example till-1)}
        {--token-stdin : create: read the token from standard input instead of generating one (to import existing tokens)}
        {--plain : create: print only the token}';

    protected $description = 'Create (prints the token once; only its SHA-256 is stored), list or revoke pos-sync device tokens';

    public function handle(DeviceRegistry $devices): int
    {
        return match ($this->argument('action')) {
            'create' => $this->create($devices),
            'list' => $this->list($devices),
            'revoke' => $this->revoke($devices),
            default => $this->failWith('unknown action: use create, list or revoke'),
        };
    }

    private function create(DeviceRegistry $devices): int
    {
        $store = (string) $this->option('store');
        $device = (string) $this->option('device');
        if ($store === '' || $device === '') {
            return $this->failWith('create needs --store and --device');
        }
        $token = null;
        if ($this->option('token-stdin')) {
            $token = trim((string) stream_get_contents(STDIN));
        }
        try {
            $token = $devices->create($store, $device, $token);
        } catch (\InvalidArgumentException $e) {
            return $this->failWith($e->getMessage());
        }
        if ($this->option('plain')) {
            $this->line($token);
        } else {
            $this->info("Device {$device} of store {$store} created. Its token, shown only this once:");
            $this->line($token);
        }

        return self::SUCCESS;
    }

    private function list(DeviceRegistry $devices): int
    {
        $rows = array_map(fn ($d) => [$d->store_id, $d->device_id, date('Y-m-d H:i:s', intdiv((int) $d->created_at, 1000))], $devices->all($this->option('store') ?: null));
        $this->table(['store', 'device', 'created (UTC)'], $rows);

        return self::SUCCESS;
    }

    private function revoke(DeviceRegistry $devices): int
    {
        $device = (string) $this->option('device');
        if ($device === '') {
            return $this->failWith('revoke needs --device (and optionally --store)');
        }
        $n = $devices->revoke($device, $this->option('store') ?: null);
        if ($n === 0) {
            return $this->failWith("no token of device {$device}");
        }
        $this->info("revoked {$n} token(s) of device {$device}");

        return self::SUCCESS;
    }

    /** Prints the error; returns the failure exit code. */
    private function failWith(string $message): int
    {
        $this->error($message);

        return self::FAILURE;
    }
}
