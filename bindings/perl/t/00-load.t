# The module loads, exports every constant, and dies with PyVirt::Error objects.
use strict;
use warnings;
use Test::More;

BEGIN { use_ok('PyVirt', ':constants') }

is(DOMAIN_RUNNING, 1, 'enum values are constants');
is(PyVirt::DOMAIN_EVENT_ID_LIFECYCLE, 0, 'fully qualified constants');
is(PyVirt::TYPED_PARAM_FIELD_LENGTH, 80, 'numeric macros are constants');
is(PyVirt::DOMAIN_SCHEDULER_WEIGHT, 'weight', 'string macros are constants');
ok(scalar(@PyVirt::EXPORT_OK) > 1000, 'every constant is exportable');

my $conn = eval { PyVirt::connect_open('nosuchscheme:///x') };
ok(!$conn, 'an unknown URI fails');
isa_ok($@, 'PyVirt::Error');
ok($@->code > 0, 'the error carries a code');
like("$@", qr/^libvirt: code=\d+ domain=\d+: /, 'the error stringifies');

my ($major) = PyVirt::get_version();
ok(defined $major && $major >= 9000000, 'get_version');

eval { PyVirt::Domain::get_name('not an object') };
is($@->code, ERR_INVALID_ARG, 'a non-object receiver dies with VIR_ERR_INVALID_ARG');
eval { PyVirt::connect_open('test:///default', 'extra') };
like($@->message, qr/usage: PyVirt::connect_open\(\$name\?\)/, 'too many arguments');

done_testing();
