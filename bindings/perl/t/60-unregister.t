# The old event API and close callbacks: callbacks without user data, undone by
# passing the same code ref back.
use strict;
use warnings;
use Test::More;
use PyVirt ':constants';

PyVirt::event_register_default_impl();
my $conn = PyVirt::connect_open('test:///default');
my $cb = sub { };
my $other = sub { 1 };

$conn->domain_event_register($cb);
eval { $conn->domain_event_deregister($other) };
is(ref $@ && $@->code, ERR_INVALID_ARG, 'a code ref never registered: invalid argument');
ok(eval { $conn->domain_event_deregister($cb); 1 }, 'the registered one');
eval { $conn->domain_event_deregister($cb) };
is(ref $@ && $@->code, ERR_INVALID_ARG, 'twice: invalid argument');
$conn->domain_event_register($cb);
ok(eval { $conn->domain_event_deregister($cb); 1 }, 'registered again once gone');

$conn->register_close_callback($cb);
ok(eval { $conn->unregister_close_callback($cb); 1 }, 'unregister_close_callback');

done_testing;
