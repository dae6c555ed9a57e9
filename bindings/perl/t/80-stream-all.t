# The stream handlers (send_all, recv_all and their sparse forms) on the test
# driver's screenshot stream: read only, and without holes.
use strict;
use warnings;
use Test::More;
use PyVirt ':constants';

my $conn = PyVirt::connect_open('test:///default');
my $dom = $conn->domain_lookup_by_name('test');

sub screenshot {
    my $st = $conn->stream_new;
    is($dom->screenshot($st, 0), 'image/png', 'a screenshot stream');
    return $st;
}

my $st = screenshot();
my $data = '';
$st->recv_all(sub { my ($s, $bytes) = @_; $data .= $bytes });
$st->finish;
like($data, qr/\A\x89PNG\r\n/, 'recv_all: the handler gets the PNG');
ok(length($data) > 1000, 'all of it');

$st = screenshot();
my $calls = 0;
eval { $st->recv_all(sub { $calls++; die "full\n" }) };
isa_ok($@, 'PyVirt::Error', 'a sink that dies stops recv_all');
is($calls, 1, 'after one call');

$st = screenshot();
eval { $st->sparse_recv_all(sub { }, sub { }) };
is(ref $@ && $@->code, ERR_NO_SUPPORT, 'sparse_recv_all: no holes in this stream');
eval { $st->abort };

$st = screenshot();
my $asked = 0;
eval { $st->send_all(sub { my ($s, $nbytes) = @_; $asked++; return 'data' }) };
is(ref $@ && $@->code, ERR_SYSTEM_ERROR, 'send_all on a read-only stream');
is(ref $@ && $@->domain, FROM_STREAMS, '... an error of the stream');
ok($asked > 0, 'the source was asked');

$st = screenshot();
my $in_data = 0;
eval {
    $st->sparse_send_all(sub { 'data' }, sub { $in_data++; return (1, 4) }, sub { });
};
is(ref $@ && $@->code, ERR_SYSTEM_ERROR, 'sparse_send_all on a read-only stream');
ok($in_data > 0, 'the hole handler was asked');

done_testing;
