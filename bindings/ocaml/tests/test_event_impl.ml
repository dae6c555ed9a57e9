(* An application's own event loop (event_register_impl): a tiny one here, that
   keeps libvirt's handles and timers and, on each iteration, fires the enabled
   timers (it has no clock: a period does not matter here) and frees what was
   removed.  Each test is its own executable: this loop is its process's only one. *)
open Pyvirt
open Harness

let next = ref 0
let handles : (int, unit -> unit) Hashtbl.t = Hashtbl.create 8
let timers : (int, int ref * (int -> unit) * (unit -> unit)) Hashtbl.t = Hashtbl.create 8
let removed = ref []
let added = ref 0
let freed = ref 0

let add_handle _fd _events _cb ff = incr next; Hashtbl.replace handles !next ff; !next
let update_handle _watch _events = ()
let remove_handle watch =
  match Hashtbl.find_opt handles watch with
  | None -> -1
  | Some ff -> Hashtbl.remove handles watch; removed := ff :: !removed; 0
let add_timeout timeout cb ff =
  incr next; incr added; Hashtbl.replace timers !next (ref timeout, cb, ff); !next
let update_timeout timer timeout =
  match Hashtbl.find_opt timers timer with Some (t, _, _) -> t := timeout | None -> ()
let remove_timeout timer =
  match Hashtbl.find_opt timers timer with
  | None -> -1
  | Some (_, _, ff) -> Hashtbl.remove timers timer; removed := ff :: !removed; 0

let run_once () =
  let due = Hashtbl.fold (fun id (t, cb, _) acc -> if !t >= 0 then (id, cb) :: acc else acc)
      timers [] in
  List.iter (fun (id, cb) -> cb id) due;
  let rs = !removed in
  removed := [];
  List.iter (fun ff -> ff (); incr freed) rs

let () =
  event_register_impl add_handle update_handle remove_handle add_timeout update_timeout
    remove_timeout;
  let conn = connect_open ~name:"test:///default" () in
  let events = ref [] in
  let id = ref 0 in
  test "libvirt adds a timer to the application's loop" (fun () ->
      id := Connect.domain_event_register_any conn None domain_event_id_lifecycle
          (Domain_event (fun _ _ ev _ -> events := ev :: !events));
      check "added" (!added > 0));
  test "a lifecycle event comes through it" (fun () ->
      Domain.suspend (Connect.domain_lookup_by_name conn "test");
      let i = ref 0 in
      while !events = [] && !i < 100 do run_once (); incr i done;
      check_eq "events" (fun l -> String.concat "," (List.map string_of_int l))
        [ domain_event_suspended ] !events);
  test "what is removed is freed" (fun () ->
      Connect.domain_event_deregister_any conn !id;
      ignore (Connect.close conn);
      let i = ref 0 in
      while !freed = 0 && !i < 10 do run_once (); incr i done;
      check "freed" (!freed > 0));
  finish ()
