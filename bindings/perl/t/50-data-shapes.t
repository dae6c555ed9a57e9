# The data shapes of the host and vCPU queries, with test:///default's fixed
# answers (the same on pyvirt and on libvirt's own test driver).
use strict;
use warnings;
use Test::More;
use PyVirt ':constants';

my $conn = PyVirt::connect_open('test:///default');

my @cpu = $conn->node_get_cpu_stats(NODE_CPU_STATS_ALL_CPUS);
is_deeply(\@cpu, [{field => 'user', value => 9797400000},
                  {field => 'kernel', value => 34678723400000},
                  {field => 'idle', value => 87264900000},
                  {field => 'iowait', value => 763600000}], 'node_get_cpu_stats');
eval { $conn->node_get_memory_stats(NODE_MEMORY_STATS_ALL_CELLS) };
is($@ && $@->code, ERR_NO_SUPPORT, 'node_get_memory_stats: not supported by the test driver');

my ($ncpus, $map, $online) = $conn->node_get_cpu_map();
is_deeply([$ncpus, unpack('H*', $map), $online], [8, '15', 3], 'node_get_cpu_map');

# The result is the driver's own (0 here); every slot is filled.
my ($n, $counts) = $conn->node_get_free_pages([4, 2048], 0, 2);
is_deeply([$n, $counts], [0, [19, 45, 97, 201]], 'node_get_free_pages');

my $dom = $conn->domain_lookup_by_name('test');
my ($info, $maps) = $dom->get_vcpus(2, 1);
is_deeply([map { [$_->{number}, $_->{state}, $_->{cpu} >= 0] } @$info],
          [[0, VCPU_RUNNING, 1], [1, VCPU_RUNNING, 1]], 'get_vcpus: info');
is(unpack('H*', $maps), 'ffff', 'get_vcpus: one map byte per vCPU');
(undef, $maps) = $dom->get_vcpus(2, 0);
is($maps, '', 'get_vcpus: no maps asked for');
is_deeply([$dom->get_vcpu_pin_info(2, 1)], [2, "\xff\xff"],
          'get_vcpu_pin_info');
is_deeply([$dom->get_emulator_pin_info(1)], [1, "\xff"], 'get_emulator_pin_info');

# Stats records: each with its own domain object and typed parameters.
for my $recs ([$conn->get_all_domain_stats(DOMAIN_STATS_STATE)],
              [PyVirt::domain_list_get_stats([$dom], DOMAIN_STATS_STATE)]) {
    is_deeply([map { [$_->{dom}->get_name(), $_->{params}] } @$recs],
              [['test', {'state.state' => DOMAIN_RUNNING, 'state.reason' => 0}]],
              'domain stats records');
}

my @ifaces = $dom->interface_addresses(DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE);
is_deeply([map { [$_->{name}, $_->{hwaddr}, $_->{addrs}] } @ifaces],
          [['testnet0', 'aa:bb:cc:dd:ee:ff',
            [{type => IP_ADDR_TYPE_IPV4, addr => '192.168.122.3', prefix => 24}]]],
          'interface_addresses: addresses nested in each interface');

# Typed parameters per CPU: without a buffer, how many a row has; then rows.
is_deeply([$dom->get_cpu_stats(0, -1, 1)], [3, []], 'get_cpu_stats: count');
my ($nstats, $rows) = $dom->get_cpu_stats(3, -1, 1);
is_deeply([$nstats, scalar @$rows, $rows->[0]{cpu_time}, scalar keys %{$rows->[0]}],
          [3, 1, 48772617035, 3], 'get_cpu_stats: the total row');
($nstats, $rows) = $dom->get_cpu_stats(2, 0, 2);
is_deeply([$nstats, map { $_->{cpu_time} } @$rows], [2, 24386308517, 24386308518],
          'get_cpu_stats: one row per CPU');

$dom->destroy();
eval { $dom->get_cpu_stats(3, -1, 1) };
is($@ && $@->code, ERR_OPERATION_INVALID, 'get_cpu_stats on an inactive domain dies');
eval { $dom->get_vcpus(2, 1) };
is($@ && $@->code, ERR_OPERATION_INVALID, 'get_vcpus on an inactive domain dies');
$dom->create();
# No driver reachable here stores secrets (and libvirt 9.0 aborts on a NULL
# secret in virSecretGetValue): the sized-bytes result is only checked to exist.
can_ok('PyVirt::Secret', 'get_value');
done_testing();
