<?php

// PHPUnit's bootstrap: the host app's autoloading (framework from /usr/share/php, the package,
// the tests). DB_CONNECTION=sqlite (default, in memory) or pgsql chooses the database.
$app = require __DIR__ . '/app/bootstrap.php';
unset($app);
