# Typed parameters are hashes: read with their types, written back with them.
use strict;
use warnings;
use Test::More;
use PyVirt ':constants';

my $conn = PyVirt::connect_open('test:///default');
my $dom = $conn->domain_lookup_by_name('test');

my $mem = $dom->get_memory_parameters(0);
isa_ok($mem, 'PyVirt::TypedParams');
ok(exists $mem->{hard_limit}, 'hard_limit is there');
is($mem->type_of('hard_limit'), TYPED_PARAM_ULLONG, 'its type is kept');

$dom->set_memory_parameters({ hard_limit => 4194304 }, 0);
is($dom->get_memory_parameters(0)->{hard_limit}, 4194304, 'a plain integer is an ULLONG');

$mem->{soft_limit} = 2097152;
$dom->set_memory_parameters($mem, 0);
is($dom->get_memory_parameters(0)->{soft_limit}, 2097152, 'a read hash goes back with its types');

my $sched = $dom->get_scheduler_parameters;
is($sched->type_of('weight'), TYPED_PARAM_UINT, 'weight is an UINT');
eval { $dom->set_scheduler_parameters({ weight => 50 }) };
is($@->code, ERR_INVALID_ARG, 'a guessed ULLONG where libvirt wants an UINT is refused');
$dom->set_scheduler_parameters({ weight => [TYPED_PARAM_UINT, 50] });
pass('[TYPE, value] names the type');
$dom->set_scheduler_parameters($sched);
pass('a read hash goes back with its types (UINT)');
eval { $dom->set_scheduler_parameters({ weight => 'heavy' }) };
isa_ok($@, 'PyVirt::Error', 'a wrongly typed value');
eval { $dom->set_scheduler_parameters('not a hash') };
is($@->code, ERR_INVALID_ARG, 'a non-hash dies with VIR_ERR_INVALID_ARG');

done_testing();
