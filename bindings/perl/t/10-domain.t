# Domains on test:///default: lookups, outputs as lists and hashes, life cycle, errors.
use strict;
use warnings;
use Test::More;
use PyVirt ':constants';

my $conn = PyVirt::connect_open('test:///default');
isa_ok($conn, 'PyVirt::Connect');

my @doms = $conn->list_all_domains;
is(scalar @doms, 1, 'list_all_domains returns the domains as a list');
isa_ok($doms[0], 'PyVirt::Domain');

my $dom = $conn->domain_lookup_by_name('test');
is($dom->get_name, 'test', 'get_name');
my ($state, $reason) = $dom->get_state;
is($state, DOMAIN_RUNNING, 'get_state returns (state, reason)');
my $info = $dom->get_info;
is($info->{nrVirtCpu}, 2, 'get_info returns a hash');
is($info->{maxMem}, 8388608, 'with the C field names');
ok($dom->is_active, 'is_active');
like($dom->get_xml_desc, qr{<name>test</name>}, 'get_xml_desc, flags optional');

my $uuid = $dom->get_uuid;
is(length $uuid, 16, 'get_uuid returns 16 bytes');
is($conn->domain_lookup_by_uuid($uuid)->get_name, 'test', 'domain_lookup_by_uuid');
is($conn->domain_lookup_by_uuid_string($dom->get_uuid_string)->get_id, $dom->get_id,
   'get_uuid_string and get_id');
my $node = $conn->node_get_info;
ok($node->{cpus} > 0 && length $node->{model}, 'node_get_info: numbers and strings');
is_deeply([$conn->list_domains(10)], [$dom->get_id], 'list_domains with a capacity');

my $xml = "<domain type='test'><name>perl-t</name><memory>65536</memory><vcpu>1</vcpu>"
        . "<os><type>hvm</type></os></domain>";
my $new = $conn->domain_define_xml($xml);
ok(!$new->is_active && $new->is_persistent, 'defined, inactive');
ok(grep({ $_ eq 'perl-t' } $conn->list_defined_domains(10)), 'list_defined_domains');
$new->create;
is(($new->get_state)[0], DOMAIN_RUNNING, 'create starts it');
$new->destroy;
eval { $new->destroy };
isa_ok($@, 'PyVirt::Error');
is($@->code, ERR_OPERATION_INVALID, 'stopping twice: VIR_ERR_OPERATION_INVALID');
is($@->domain, FROM_DOMAIN, 'from the domain code');
like($@->message, qr/domain is not running/, "libvirt's wording");
$new->undefine;
$new->free;
eval { $new->get_name };
is($@->code, ERR_INVALID_DOMAIN, 'a freed object reports an invalid domain, no crash');

eval { $conn->domain_lookup_by_name('perl-t') };
is($@->code, ERR_NO_DOMAIN, 'lookup after undefine: VIR_ERR_NO_DOMAIN');
eval { $conn->domain_lookup_by_uuid('short') };
is($@->code, ERR_INVALID_ARG, 'a UUID of the wrong length dies');

is($dom->get_connect->get_uri, 'test:///default', 'get_connect returns a usable connection');
undef $_ for @doms, $dom;
ok($conn->close >= 0, 'close returns the remaining references');
eval { $conn->get_uri };
is($@->code, ERR_INVALID_CONN, 'a closed connection reports an invalid connection');

done_testing();
