# An application's own event loop (event_register_impl): a tiny one here, that
# keeps libvirt's handles and timers and, on each iteration, fires the enabled
# timers (it has no clock: a period does not matter here) and frees what was
# removed. prove runs each test file in its own process: this loop is its only one.
use strict;
use warnings;
use Test::More;
use PyVirt ':constants';

my ($next, %timers, %handles, @removed, $added, $freed) = (0);
PyVirt::event_register_impl(
    sub { my ($fd, $events, $cb, $ff) = @_; $handles{++$next} = $ff; return $next },
    sub { },
    sub { my ($watch) = @_; return -1 unless $handles{$watch};
          push @removed, delete $handles{$watch}; return 0 },
    sub { my ($timeout, $cb, $ff) = @_; $added++;
          $timers{++$next} = {timeout => $timeout, cb => $cb, ff => $ff}; return $next },
    sub { my ($timer, $timeout) = @_; $timers{$timer}{timeout} = $timeout if $timers{$timer} },
    sub { my ($timer) = @_; return -1 unless $timers{$timer};
          push @removed, delete($timers{$timer})->{ff}; return 0 },
);

sub run_once {
    for my $id (keys %timers) {
        $timers{$id}{cb}->($id) if $timers{$id} && $timers{$id}{timeout} >= 0;
    }
    while (my $ff = shift @removed) { $ff->(); $freed++ }
}

my $conn = PyVirt::connect_open('test:///default');
my @events;
my $id = $conn->domain_event_register_any(undef, DOMAIN_EVENT_ID_LIFECYCLE, sub {
    my ($conn, $dom, $event, $detail) = @_;
    push @events, $event;
});
ok($added, 'libvirt added a timer to the application loop');
$conn->domain_lookup_by_name('test')->suspend;
for (1 .. 100) { last if @events; run_once() }
is_deeply(\@events, [DOMAIN_EVENT_SUSPENDED], 'the lifecycle event came through it');
$conn->domain_event_deregister_any($id);
undef $conn;
for (1 .. 10) { last if $freed; run_once() }
ok($freed, 'what was removed was freed');

done_testing;
