# Graphics events: the callback gets the client's addresses and subject as hashes.
# The test driver has no graphics clients and never emits one: this checks that
# the callback is taken for its event ID and given back.
use strict;
use warnings;
use Test::More;
use PyVirt ':constants';

PyVirt::event_register_default_impl();
my $conn = PyVirt::connect_open('test:///default');
my $id = $conn->domain_event_register_any(undef, DOMAIN_EVENT_ID_GRAPHICS, sub {
    my ($conn, $dom, $phase, $local, $remote, $scheme, $subject) = @_;
    fail("a graphics event on the test driver: $local->{node} $subject->{identities}");
});
ok($id >= 0, 'registered for graphics events');
ok(eval { $conn->domain_event_deregister_any($id); 1 }, 'deregistered');
eval { $conn->domain_event_deregister_any($id) };
is(ref $@ && $@->code, ERR_INVALID_ARG, 'twice: invalid argument');

done_testing;
