<?php

// One client of the concurrency test (run.php starts 25 of these at once):
//   worker.php upload URL TOKEN PREFIX BATCHES   uploads sales and customer edits, prints what applied
//   worker.php download URL TOKEN STOPFILE       pages sales and customers until STOPFILE exists
//                                                and it has caught up, prints every record it saw

require __DIR__ . '/../../src/Protocol/Canonical.php';

use PosSync\Laravel\Protocol\Canonical;

[, $mode, $url, $token] = $argv;

function call(string $method, string $url, string $token, ?string $body = null): array
{
    for ($attempt = 1; ; $attempt++) {
        $ch = curl_init($url);
        curl_setopt_array($ch, [
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_HTTPHEADER => ['Authorization: Bearer ' . $token, 'Content-Type: application/json', 'X-Pos-Sync-Protocol: 1'],
            CURLOPT_TIMEOUT => 60,
        ] + ($body === null ? [] : [CURLOPT_POSTFIELDS => $body]));
        $raw = curl_exec($ch);
        $status = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
        curl_close($ch);
        if ($status === 200) {
            return json_decode($raw, true, 512, JSON_THROW_ON_ERROR);
        }
        // A 5xx or a lost connection is what a real device retries; anything else is a bug.
        if (($status !== 0 && $status < 500) || $attempt === 5) {
            fwrite(STDERR, "{$method} {$url}: HTTP {$status}: {$raw}\n");
            exit(1);
        }
        usleep(200000 * $attempt);
    }
}

function change(string $type, string $id, string $action, ?int $base, mixed $payload): array
{
    $change = ['change_id' => bin2hex(random_bytes(16)), 'entity_type' => $type, 'entity_id' => $id, 'action' => $action,
        'hlc' => (int) (microtime(true) * 1000) << 16, 'payload' => $payload, 'checksum' => Canonical::checksum($payload)];
    if ($base !== null) {
        $change['base_version'] = $base;
    }

    return $change;
}

function upload(string $url, string $token, array $changes): array
{
    $objects = json_decode(json_encode($changes), false);
    $reduced = array_map(function ($c) {
        $fields = ['action', 'change_id', 'checksum', 'entity_id', 'entity_type', 'hlc', 'payload'];
        if (property_exists($c, 'base_version')) {
            $fields[] = 'base_version';
        }
        $o = new stdClass();
        foreach ($fields as $f) {
            $o->$f = $c->$f;
        }

        return $o;
    }, $objects);
    $body = json_encode(['batch_id' => bin2hex(random_bytes(8)), 'changes' => $objects, 'checksum' => Canonical::checksum($reduced)]);

    return call('POST', "{$url}/api/sync/upload", $token, $body)['results'];
}

if ($mode === 'upload') {
    [, , , , $prefix, $batches] = $argv;
    $sales = [];
    $stock = [];
    $customers = [];
    for ($b = 0; $b < (int) $batches; $b++) {
        $changes = [];
        for ($i = 0; $i < 15; $i++) {
            $id = "{$prefix}-s{$b}-{$i}";
            $product = 'p' . random_int(1, 5);
            $qty = random_int(1, 3);
            $changes[] = change('sale', $id, 'create', null, (object) ['id' => $id, 'lines' => [(object) ['product_id' => $product, 'quantity' => $qty, 'unit_price' => 150]], 'total' => 150 * $qty]);
            $stock[$product] = ($stock[$product] ?? 0) - $qty;
        }
        $cid = "{$prefix}-c{$b}";
        $changes[] = change('customer', $cid, 'create', null, (object) ['id' => $cid, 'name' => 'new']);
        // Edit an earlier customer of this device, so versions move across pages.
        if ($b > 0) {
            $old = "{$prefix}-c" . random_int(0, $b - 1);
            $changes[] = change('customer', $old, 'update', $customers[$old], (object) ['id' => $old, 'name' => "edit {$b}"]);
        }
        $results = upload($url, $token, $changes);
        // A retry after a lost answer: everything is a duplicate, nothing applies twice.
        $again = upload($url, $token, $changes);
        foreach ($changes as $k => $c) {
            if ($results[$k]['status'] !== 'applied' || $again[$k]['status'] !== 'duplicate' || $again[$k]['version'] !== $results[$k]['version']) {
                fwrite(STDERR, "unexpected result for {$c['entity_id']}: " . json_encode([$results[$k], $again[$k]]) . "\n");
                exit(1);
            }
            if ($c['entity_type'] === 'sale') {
                $sales[] = $c['entity_id'];
            } else {
                $customers[$c['entity_id']] = $results[$k]['version'];
            }
        }
    }
    echo json_encode(['sales' => $sales, 'customers' => $customers, 'stock' => $stock]);
    exit(0);
}

[, , , , $stopFile] = $argv;
$seen = ['sale' => [], 'customer' => []];
$tokens = ['sale' => '', 'customer' => ''];
$pages = 0;
while (true) {
    $stopping = file_exists($stopFile);
    $caughtUp = true;
    foreach (['sale', 'customer'] as $type) {
        $page = call('GET', "{$url}/api/sync/download?entity_type={$type}&limit=7&since=" . urlencode($tokens[$type]), $token);
        $pages++;
        $json = json_decode(json_encode($page['records']), false);
        if (Canonical::checksum($json) !== $page['checksum']) {
            fwrite(STDERR, "page checksum mismatch\n");
            exit(1);
        }
        foreach ($page['records'] as $r) {
            $seen[$type][] = [$r['entity_id'], $r['version']];
        }
        $tokens[$type] = $page['next_token'];
        $caughtUp = $caughtUp && ! $page['has_more'];
    }
    if ($stopping && $caughtUp) {
        break;
    }
}
echo json_encode(['seen' => $seen, 'pages' => $pages]);
