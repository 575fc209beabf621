<?php

namespace PosSync\Laravel\Devices;

use Illuminate\Database\ConnectionInterface;
use PosSync\Laravel\Protocol\Limits;

/**
 * Device tokens: only the SHA-256 of a token is stored, so a leaked table reveals no token
 * and lookup time says nothing about a token's bytes.
 */
final class DeviceRegistry
{
    public const TABLE = 'pos_sync_devices';

    public function __construct(private readonly ConnectionInterface $db)
    {
    }

    public static function hash(string $token): string
    {
        return hash('sha256', $token);
    }

    public function find(string $token): ?Device
    {
        $row = $this->db->table(self::TABLE)->where('token_hash', self::hash($token))->first();

        return $row === null ? null : new Device($row->device_id, $row->store_id);
    }

    /**
     * Registers a device and returns its new token (shown once). `$token` lets an operator
     * import an existing token (for example from the reference server's tokens file).
     */
    public function create(string $storeId, string $deviceId, ?string $token = null): string
    {
        foreach (['store' => $storeId, 'device' => $deviceId] as $what => $id) {
            if (($problem = Limits::idProblem($id)) !== null) {
                throw new \InvalidArgumentException("the {$what} id {$problem}");
            }
        }
        $token ??= 'pst_' . bin2hex(random_bytes(24));
        if (strlen($token) < 8 || preg_match('/\s/', $token)) {
            throw new \InvalidArgumentException('a token needs at least 8 characters and no whitespace');
        }
        $this->db->table(self::TABLE)->insert([
            'token_hash' => self::hash($token),
            'device_id' => $deviceId,
            'store_id' => $storeId,
            'created_at' => now()->getTimestampMs(),
        ]);

        return $token;
    }

    /** @return list<object{device_id: string, store_id: string, created_at: int}> */
    public function all(?string $storeId = null): array
    {
        $query = $this->db->table(self::TABLE)->select(['device_id', 'store_id', 'created_at'])
            ->orderBy('store_id')->orderBy('device_id');
        if ($storeId !== null) {
            $query->where('store_id', $storeId);
        }

        return $query->get()->all();
    }

    /** Revokes every token of a device; returns how many there were. */
    public function revoke(string $deviceId, ?string $storeId = null): int
    {
        $query = $this->db->table(self::TABLE)->where('device_id', $deviceId);
        if ($storeId !== null) {
            $query->where('store_id', $storeId);
        }

        return $query->delete();
    }
}
