# Event callbacks are code refs, called by the default event loop run from Perl.
use strict;
use warnings;
use Test::More;
use PyVirt ':constants';

PyVirt::event_register_default_impl();
my $conn = PyVirt::connect_open('test:///default');
my @seen;
my $id = $conn->domain_event_register_any(undef, DOMAIN_EVENT_ID_LIFECYCLE, sub {
    my ($c, $dom, $event, $detail) = @_;
    push @seen, [ref $c, $dom->get_name, $event, $detail];
});
ok($id >= 0, 'registered');

my $dom = $conn->domain_lookup_by_name('test');
$dom->suspend;
$dom->resume;
local $SIG{ALRM} = sub { die "no events after 10 s\n" };
alarm 10;
PyVirt::event_run_default_impl() while @seen < 2;
alarm 0;
is_deeply($seen[0], ['PyVirt::Connect', 'test', DOMAIN_EVENT_SUSPENDED, 0], 'suspended event');
is_deeply($seen[1], ['PyVirt::Connect', 'test', DOMAIN_EVENT_RESUMED, 0], 'resumed event');
$conn->domain_event_deregister_any($id);

eval { $conn->domain_event_register_any(undef, DOMAIN_EVENT_ID_LIFECYCLE, 'not code') };
is($@->code, ERR_INVALID_ARG, 'a callback must be a code ref');
eval { $conn->domain_event_register_any(undef, 9999, sub {}) };
is($@->code, ERR_INVALID_ARG, 'an unknown event ID dies');

my $ticks = 0;
my $timer = PyVirt::event_add_timeout(0, sub { $ticks++ });
ok($timer >= 0, 'event_add_timeout');
alarm 10;
PyVirt::event_run_default_impl() while $ticks < 2;
alarm 0;
PyVirt::event_remove_timeout($timer);
ok($ticks >= 2, 'a timeout callback runs each loop iteration');

done_testing();
