<?php

// The concurrency test of `make test-laravel`: 20 devices upload (each batch twice, as after a
// lost answer) and 5 download in small pages, all at once, through nginx + php-fpm workers on
// PostgreSQL. Checks that nothing is lost, duplicated or skipped across pages, that versions
// arrive in order, and that server-side stock and status agree with what was uploaded.
//   php run.php SERVER_URL ADMIN_TOKEN 'TOKEN DEVICE STORE;...' [BATCHES]
// Uploading devices are every device of the list but the last five, which download.

[, $url, $admin, $tokenList] = $argv;
$batches = (int) ($argv[4] ?? 6);
$devices = array_map(fn ($e) => preg_split('/\s+/', trim($e)), array_values(array_filter(explode(';', $tokenList), 'trim')));
$uploaders = array_slice($devices, 0, -5);
$downloaders = array_slice($devices, -5);
$stopFile = tempnam(sys_get_temp_dir(), 'pos-sync-conc');
unlink($stopFile);

function start(array $args): array
{
    $process = proc_open(array_merge([PHP_BINARY, __DIR__ . '/worker.php'], $args), [1 => ['pipe', 'w'], 2 => STDERR], $pipes);

    return [$process, $pipes[1]];
}

function finish(array $worker): array
{
    [$process, $out] = $worker;
    $text = stream_get_contents($out);
    if (proc_close($process) !== 0) {
        fwrite(STDERR, "a worker failed\n");
        exit(1);
    }

    return json_decode($text, true, 512, JSON_THROW_ON_ERROR);
}

$started = microtime(true);
$readers = array_map(fn ($d) => [$d[2], start(['download', $url, $d[0], $stopFile])], $downloaders);
$writers = array_map(fn ($d) => [$d[2], start(['upload', $url, $d[0], $d[1] . '-' . bin2hex(random_bytes(3)), (string) $batches])], $uploaders);
$expected = [];
foreach ($writers as [$store, $worker]) {
    $r = finish($worker);
    $expected[$store]['sales'] = array_merge($expected[$store]['sales'] ?? [], $r['sales']);
    $expected[$store]['customers'] = ($expected[$store]['customers'] ?? []) + $r['customers'];
    foreach ($r['stock'] as $p => $d) {
        $expected[$store]['stock'][$p] = ($expected[$store]['stock'][$p] ?? 0) + $d;
    }
}
touch($stopFile);
$failures = [];
$pages = 0;
foreach ($readers as [$store, $worker]) {
    $r = finish($worker);
    $pages += $r['pages'];
    $want = $expected[$store] ?? ['sales' => [], 'customers' => []];
    $sales = array_count_values(array_map(fn ($s) => $s[0], $r['seen']['sale']));
    foreach ($want['sales'] as $id) {
        if (($sales[$id] ?? 0) !== 1) {
            $failures[] = "{$store}: sale {$id} downloaded " . ($sales[$id] ?? 0) . ' times';
        }
    }
    if (count($sales) !== count($want['sales'])) {
        $failures[] = "{$store}: " . count($sales) . ' distinct sales downloaded, ' . count($want['sales']) . ' uploaded';
    }
    $versions = [];
    foreach ($r['seen']['customer'] as [$id, $v]) {
        $versions[$id][] = $v;
    }
    foreach ($want['customers'] as $id => $final) {
        $got = $versions[$id] ?? [];
        $sorted = array_values(array_unique($got));
        sort($sorted);
        if ($got !== $sorted || end($got) !== $final) {
            $failures[] = "{$store}: customer {$id} versions " . json_encode($got) . ", final {$final}";
        }
    }
}
@unlink($stopFile);
foreach ($expected as $store => $want) {
    $ch = curl_init("{$url}/admin/stores/{$store}/stock");
    curl_setopt_array($ch, [CURLOPT_RETURNTRANSFER => true, CURLOPT_HTTPHEADER => ["Authorization: Bearer {$admin}"]]);
    $levels = array_column(json_decode(curl_exec($ch), true), 'quantity', 'product_id');
    foreach ($want['stock'] as $p => $q) {
        if (($levels[$p] ?? null) != $q) {
            $failures[] = "{$store}: stock of {$p} is " . json_encode($levels[$p] ?? null) . ", expected {$q}";
        }
    }
}
$uploaded = array_sum(array_map(fn ($w) => count($w['sales']) + count($w['customers']), $expected));
printf("concurrency: %d uploading and %d downloading devices, %d sales and customers, %d pages downloaded, %.1f s\n",
    count($uploaders), count($downloaders), $uploaded, $pages, microtime(true) - $started);
if ($failures !== []) {
    fwrite(STDERR, "FAILED:\n  " . implode("\n  ", array_slice($failures, 0, 20)) . "\n");
    exit(1);
}
echo "concurrency: nothing lost, duplicated or skipped; versions in order; stock exact\n";
