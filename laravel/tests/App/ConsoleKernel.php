<?php

namespace PosSync\Laravel\Tests\App;

use Illuminate\Foundation\Console\Kernel;

final class ConsoleKernel extends Kernel
{
}
